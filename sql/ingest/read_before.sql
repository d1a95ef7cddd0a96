-- Whether the manifest holds this file of the source with this content (a run skips it).
select 1
from ingest.manifest
where source = $source and path = $path and content_sha256 = $content_sha256
