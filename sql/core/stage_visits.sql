-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- Unmapped touchpoints are skipped (they neither start nor split a visit). A visit ends when the
-- customer's next visit starts; the last visit is open (ended_at null). Regressions start new visits.
with mapped as (
    select customer_id, event_seq, stage, stage_index, occurred_at
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
),

flagged as (
    select
        customer_id, event_seq, stage, stage_index, occurred_at,
        case
            when stage_index = lag(stage_index) over (partition by customer_id order by event_seq) then 0
            else 1
        end as is_visit_start
    from mapped
),

numbered as (
    select
        customer_id, stage, stage_index, occurred_at,
        sum(is_visit_start) over (
            partition by customer_id order by event_seq
            rows between unbounded preceding and current row
        ) as visit_seq
    from flagged
),

visits as (
    select
        customer_id,
        cast(visit_seq as bigint) as visit_seq,
        min(stage) as stage,
        min(stage_index) as stage_index,
        min(occurred_at) as started_at,
        count(*) as n_events
    from numbered
    group by customer_id, visit_seq
)

select
    customer_id,
    visit_seq,
    stage,
    stage_index,
    started_at,
    lead(started_at) over (partition by customer_id order by visit_seq) as ended_at,
    n_events
from visits
