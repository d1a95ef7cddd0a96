-- Data-quality panel: quarantined rows per source and reason, this run ($run_ids: queries/unfinished_runs.sql)
-- and in total.
select source, reason,
       count(*) filter (where list_contains($run_ids, run_id)) as rows_run,
       count(*)                                                as rows_total
from ingest.quarantine
group by source, reason
order by source, rows_total desc, reason
