-- The files of source $source that the manifest lists but that are not among $paths (the files its `path`
-- matches now): deleted, moved, or no longer matched. Their loaded rows stay in the warehouse; each row
-- gives the last run that read the file, the rows all its versions loaded and the content of its last version.
select path, max(run_id) as last_run_id, sum(rows_loaded) as rows_loaded,
       arg_max(content_sha256, loaded_at) as content_sha256
from ingest.manifest
where source = $source
  and not list_contains($paths, path)
group by path
order by path
