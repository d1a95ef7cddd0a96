-- Data-quality panel: per source, files and rows read / loaded / deduplicated / quarantined, this run and in total.
select source,
       count(*) filter (where run_id = $run_id)                       as files_run,
       coalesce(sum(rows_read) filter (where run_id = $run_id), 0)         as read_run,
       coalesce(sum(rows_loaded) filter (where run_id = $run_id), 0)       as loaded_run,
       coalesce(sum(rows_deduplicated) filter (where run_id = $run_id), 0) as deduplicated_run,
       coalesce(sum(rows_quarantined) filter (where run_id = $run_id), 0)  as quarantined_run,
       count(*)                                                       as files_total,
       coalesce(sum(rows_read), 0)                                    as read_total,
       coalesce(sum(rows_loaded), 0)                                  as loaded_total,
       coalesce(sum(rows_deduplicated), 0)                            as deduplicated_total,
       coalesce(sum(rows_quarantined), 0)                             as quarantined_total
from ingest.manifest
group by source
order by source
