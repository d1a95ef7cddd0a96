-- One headline number per metric of run $run_id, appended to marts.run_history (sql/warehouse/schema.sql)
-- once per run, so trends across nightly runs can be drawn from it. Rows quarantined count the files of
-- $run_ids: this run's, and those of the unfinished runs before it (queries/unfinished_runs.sql).
delete from marts.run_history where run_id = $run_id;

insert into marts.run_history
select $run_id, $run_at, $as_of, metric, value
from (
    select 'events' as metric, count(*)::double as value from core.touchpoints
    union all
    select 'customers', count(distinct customer_id)::double from core.touchpoints
    union all
    -- the time of the latest touchpoint (epoch seconds): data that stopped arriving shows as a gap to as_of
    select 'latest_event_at', epoch(max(occurred_at)) from core.touchpoints
    union all
    select 'rows_quarantined', coalesce(sum(rows_quarantined), 0)::double from ingest.manifest
    where list_contains($run_ids, run_id)
    union all
    select 'reached:' || stage, reached::double from marts.funnel_steps
    union all
    select 'conversion_from_start:' || stage, conversion_from_start from marts.funnel_steps
    union all
    -- each step's number, so reports can tell a run whose funnel had other steps, or their order
    select 'step:' || stage, step::double from marts.funnel_steps
    union all
    -- what a step's conversion means (steps, window, stage rules: Config.funnel_definition), likewise
    select 'funnel_definition', $funnel_definition::double
);
