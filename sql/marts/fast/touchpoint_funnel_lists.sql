-- grain: one customer with a step-1 touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table with the columns of fast/funnel_lists.sql, built instead of it when a funnel step is
-- a touchpoint label source:event_name: the customer's funnel touchpoints in event order, read from
-- core.touchpoints (a touchpoint step counts unmapped touchpoints too, which customer_lists leaves out). A
-- touchpoint is of the step naming its label, else of its stage's step, as in
-- sql/marts/funnel_customer_steps.sql; the label is matched as (source, event name), split from the step
-- (a source name holds no ':'), so no label text is built per touchpoint.
with step_map as (
    -- step of each stage index (null: not a funnel step)
    select list(f.step order by s.stage_index) as step_of
    from marts.stages as s
    left join marts.funnel_stages as f using (stage_index)
),

touchpoint_steps as (
    select
        step,
        left(stage, strpos(stage, ':') - 1) as source,
        substr(stage, strpos(stage, ':') + 1) as event_name
    from marts.funnel_stages
    where stage_index is null
),

stepped as (
    select t.customer_id, t.event_seq, t.occurred_at, coalesce(e.step, m.step_of[t.stage_index]) as step
    from core.touchpoints as t
    cross join step_map as m
    left join touchpoint_steps as e
        on e.source = t.source and e.event_name = t.event_name
    where t.occurred_at <= $as_of
),

grouped as (
    select
        customer_id,
        list_grade_up(list(event_seq)) as event_order,
        list(event_seq) as seq0,
        list(step) as step0,
        list(occurred_at) as ts0
    from stepped
    where step is not null
    group by customer_id
    having bool_or(step = 1)
)

select
    customer_id,
    list_select(seq0, event_order) as seq,
    list_select(step0, event_order) as step,
    list_select(ts0, event_order) as ts
from grouped
