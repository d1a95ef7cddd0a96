-- Data-quality panel: per source, files and rows read / loaded / deduplicated / quarantined, this run and in total.
-- This run is $run_ids: the run, and the unfinished runs before it (queries/unfinished_runs.sql).
select source,
       count(*) filter (where list_contains($run_ids, run_id))                            as files_run,
       coalesce(sum(rows_read) filter (where list_contains($run_ids, run_id)), 0)         as read_run,
       coalesce(sum(rows_loaded) filter (where list_contains($run_ids, run_id)), 0)       as loaded_run,
       coalesce(sum(rows_deduplicated) filter (where list_contains($run_ids, run_id)), 0) as deduplicated_run,
       coalesce(sum(rows_quarantined) filter (where list_contains($run_ids, run_id)), 0)  as quarantined_run,
       count(*)                                                                           as files_total,
       coalesce(sum(rows_read), 0)                                                        as read_total,
       coalesce(sum(rows_loaded), 0)                                                      as loaded_total,
       coalesce(sum(rows_deduplicated), 0)                                                as deduplicated_total,
       coalesce(sum(rows_quarantined), 0)                                                 as quarantined_total
from ingest.manifest
group by source
order by source
