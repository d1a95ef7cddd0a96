-- Data-quality panel: up to 5 rejected rows per source; this run's first (with the unfinished runs it
-- counts, $run_ids), then the latest earlier ones (run ids start with their UTC time).
select run_id, source, path, line, reason, detail, raw_record
from (
    select *,
           row_number() over (
               partition by source order by list_contains($run_ids, run_id) desc, run_id desc, path, line
           ) as n
    from ingest.quarantine
)
where n <= 5
order by source, n
