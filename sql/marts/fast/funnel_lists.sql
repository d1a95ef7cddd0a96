-- grain: one customer with a step-1 touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table read by fast/funnel_scan.sql: the customer's funnel touchpoints in event order,
-- its mapped touchpoints (temp table customer_lists, listed once for the visits and the funnel) whose stage
-- is a funnel step; all of them, as they are, when the steps are all the stages (the default). Built from
-- fast/touchpoint_funnel_lists.sql instead when a funnel step is a touchpoint label.
with step_map as (
    -- step of each stage index (null: not a funnel step); every_stage: the steps are all the stages
    select
        list(f.step order by s.stage_index) as step_of,
        bool_and(f.step is not distinct from s.stage_index) as every_stage
    from marts.stages as s
    left join marts.funnel_stages as f using (stage_index)
)

select c.customer_id, c.seqs as seq, c.stages as step, c.times as ts
from customer_lists as c
where (select every_stage from step_map) and list_contains(c.stages, 1)

union all

select
    customer_id,
    list_select(seqs, funnel) as seq,
    list_select(steps, funnel) as step,
    list_select(times, funnel) as ts
from (
    select *, list_filter(range(1, len(steps) + 1), lambda i: steps[i] is not null) as funnel
    from (
        select c.*, list_transform(c.stages, lambda s: m.step_of[s]) as steps
        from customer_lists as c
        cross join step_map as m
        where not m.every_stage
    ) as mapped
) as kept
where list_contains(steps, 1)
