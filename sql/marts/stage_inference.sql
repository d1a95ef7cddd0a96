-- grain: one unmapped (source, event_name); key: (source, event_name)
-- The stage customers are in (their last rule-mapped stage before the event) when an unmapped event
-- happens. The most common such stage is proposed; it is used (`is_used`) when it holds at least
-- $min_share of the occurrences and they come from at least $min_customers customers (SEMANTICS.md).
-- Occurrences before any mapped event have no stage to learn from: counted apart as `n_without_stage`.
with placed as (
    select
        customer_id,
        source,
        event_name,
        stage,
        last_value(case when stage_source = 'rule' then stage end ignore nulls) over (
            partition by customer_id order by event_seq rows between unbounded preceding and 1 preceding
        ) as stage_before
    from core.touchpoints
),

unmapped as (
    select * from placed where stage = 'unmapped'
),

by_stage as (
    select source, event_name, stage_before, count(*) as occurrences, count(distinct customer_id) as customers
    from unmapped
    where stage_before is not null
    group by all
),

totals as (
    select
        source,
        event_name,
        count(*) filter (where stage_before is not null) as n_with_stage,
        count(*) filter (where stage_before is null) as n_without_stage,
        count(distinct customer_id) filter (where stage_before is not null) as support
    from unmapped
    group by all
),

best as (
    select
        source,
        event_name,
        arg_max(stage_before, (occurrences, stage_before)) as proposed_stage,
        max(occurrences) as occurrences
    from by_stage
    group by all
)

select
    t.source,
    t.event_name,
    b.proposed_stage,
    s.stage_index as proposed_stage_index,
    b.occurrences,
    t.n_with_stage,
    t.n_without_stage,
    t.support as customers,
    case when t.n_with_stage > 0 then b.occurrences / t.n_with_stage end as share,
    coalesce(t.n_with_stage > 0 and b.occurrences / t.n_with_stage >= $min_share and t.support >= $min_customers, false)
        as is_used
from totals as t
left join best as b using (source, event_name)
left join core.stages as s on s.stage = b.proposed_stage
