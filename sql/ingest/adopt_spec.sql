-- Files read before the manifest kept spec fingerprints count as read under the spec of this run.
update ingest.manifest
set spec_sha256 = $spec_sha256
where source = $source and spec_sha256 is null
