-- The latest read of this file of the source: its rows, content and size then.
select rows_read, content_sha256, size_bytes
from ingest.manifest
where source = $source and path = $path
order by loaded_at desc
limit 1
