-- Every version (content, size) read of each file of source $source, for `journey sources reset`'s check.
select path, list(distinct (content_sha256, size_bytes)) as versions
from ingest.manifest
where source = $source
group by path
order by path
