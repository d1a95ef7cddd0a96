-- How many files of source $source (or versions of file $path, when given) were read under another spec than
-- the current one, $spec_sha256.
select count(*)
from ingest.manifest
where source = $source
  and ($path is null or path = $path)
  and spec_sha256 <> $spec_sha256
