-- The runs whose loads run $run_id counts as its own, with what each loaded: itself, and the runs just
-- before it that ended without publishing marts (killed, or a source failed), since no run reported their
-- files. A run publishes by appending to marts.run_history; run ids start with their UTC start time, so
-- they sort in the order the runs started.
with published as (
    select distinct run_id from marts.run_history
),

since as (
    select coalesce(max(run_id), '') as run_id from published where run_id < $run_id
)

select
    $run_id as run_id,
    count(m.run_id) as files,
    coalesce(sum(m.rows_read), 0) as rows_read,
    coalesce(sum(m.rows_loaded), 0) as rows_loaded
from (select 1) as one
left join ingest.manifest as m on m.run_id = $run_id

union all

select m.run_id, count(*), sum(m.rows_read), sum(m.rows_loaded)
from ingest.manifest as m
where m.run_id < $run_id
  and m.run_id > (select run_id from since)
  and m.run_id not in (select run_id from published)
group by m.run_id
order by run_id
