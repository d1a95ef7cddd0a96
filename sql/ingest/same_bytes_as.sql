-- Another file of the source read before, under the current spec, with rows and the same content: the one read
-- first (a copy of it is skipped).
select path
from ingest.manifest
where source = $source
  and path <> $path
  and content_sha256 = $content_sha256
  and rows_read > 0
  and spec_sha256 = $spec_sha256
order by loaded_at, path
limit 1
