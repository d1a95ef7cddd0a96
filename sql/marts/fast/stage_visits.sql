-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- DuckDB-only fast form of sql/core/stage_visits.sql (same rows and types): the mapped touchpoints
-- are ordered once per customer (lag, row_number and the customer's count share one window), then
-- only the visit starts are ordered again; no GROUP BY over every touchpoint.
with marked as (
    select
        customer_id,
        event_seq,
        stage,
        stage_index,
        occurred_at,
        stage_index is distinct from lag(stage_index) over w as is_visit_start,
        row_number() over w as event_rank,
        count(*) over (w rows between unbounded preceding and unbounded following) as n_mapped
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
    window w as (partition by customer_id order by event_seq)
)

select
    customer_id,
    row_number() over v as visit_seq,
    stage,
    stage_index,
    occurred_at as started_at,
    lead(occurred_at) over v as ended_at,
    coalesce(lead(event_rank) over v, n_mapped + 1) - event_rank as n_events
from marked
where is_visit_start
window v as (partition by customer_id order by event_seq)
