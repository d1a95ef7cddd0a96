-- grain: one headline number of one run; key: (run_id, metric)
-- Appended once per run, so trends across nightly runs can be drawn from it.
create table if not exists marts.run_history (
    run_id varchar not null,
    run_at timestamptz not null,
    as_of timestamptz not null,
    metric varchar not null,
    value double
);

delete from marts.run_history where run_id = $run_id;

insert into marts.run_history
select $run_id, $run_at, $as_of, metric, value
from (
    select 'events' as metric, count(*)::double as value from core.touchpoints
    union all
    select 'customers', count(distinct customer_id)::double from core.touchpoints
    union all
    select 'rows_quarantined', coalesce(sum(rows_quarantined), 0)::double from ingest.manifest where run_id = $run_id
    union all
    select 'reached:' || stage, reached::double from marts.funnel_steps
    union all
    select 'conversion_from_start:' || stage, conversion_from_start from marts.funnel_steps
);
