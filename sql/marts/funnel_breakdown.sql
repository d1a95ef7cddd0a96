-- grain: one funnel step for one value of one breakdown dimension; key: (dimension, breakdown_value, step)
-- Dimensions and values come from marts.funnel_customer_attributes (the configured attribute of the
-- chosen attempt's step-1 touchpoint, e.g. its channel; and the segment when configured).
-- Per dimension, the top_n values by cohort customers (ties: value text) keep their name; all
-- others are summed into 'Other'. A value spelled 'Other' is ranked last, so it keeps its name only
-- when nothing is folded, and is otherwise counted in that row. Every value gets a row for every step.
with attributes as (
    select a.dimension, a.breakdown_value, c.deepest_step, c.is_in_progress
    from marts.funnel_customer_attributes as a
    join marts.funnel_customers as c using (customer_id)
),

ranked_values as (
    select
        dimension,
        breakdown_value,
        row_number() over (
            partition by dimension
            order by case when breakdown_value = 'Other' then 1 else 0 end, count(*) desc, breakdown_value
        ) as value_rank
    from attributes
    group by dimension, breakdown_value
),

customers as (
    select
        a.dimension,
        case when v.value_rank <= $top_n then a.breakdown_value else 'Other' end as breakdown_value,
        a.deepest_step,
        a.is_in_progress
    from attributes as a
    join ranked_values as v
        on v.dimension = a.dimension and v.breakdown_value = a.breakdown_value
),

by_depth as (
    select
        dimension,
        breakdown_value,
        deepest_step,
        count(*) as n_customers,
        sum(case when is_in_progress then 1 else 0 end) as n_in_progress
    from customers
    group by dimension, breakdown_value, deepest_step
),

grid as (
    select g.dimension, g.breakdown_value, s.step as step, s.stage
    from (select distinct dimension, breakdown_value from customers) as g
    cross join marts.funnel_stages as s
),

reached as (
    select g.dimension, g.breakdown_value, g.step, g.stage, coalesce(sum(d.n_customers), 0) as reached
    from grid as g
    left join by_depth as d
        on d.dimension = g.dimension and d.breakdown_value = g.breakdown_value and d.deepest_step >= g.step
    group by g.dimension, g.breakdown_value, g.step, g.stage
),

waiting as (
    select g.dimension, g.breakdown_value, g.step, coalesce(max(d.n_in_progress), 0) as in_progress
    from grid as g
    left join by_depth as d
        on d.dimension = g.dimension and d.breakdown_value = g.breakdown_value and d.deepest_step = g.step - 1
    group by g.dimension, g.breakdown_value, g.step
),

steps as (
    select
        r.dimension,
        r.breakdown_value,
        r.step,
        r.stage,
        r.reached,
        lag(r.reached) over (partition by r.dimension, r.breakdown_value order by r.step) as reached_previous,
        first_value(r.reached) over (
            partition by r.dimension, r.breakdown_value order by r.step
            rows between unbounded preceding and unbounded following
        ) as reached_first,
        w.in_progress
    from reached as r
    join waiting as w
        on w.dimension = r.dimension and w.breakdown_value = r.breakdown_value and w.step = r.step
)

select
    dimension,
    breakdown_value,
    step,
    stage,
    cast(reached as bigint) as reached,
    case when step > 1 then cast(in_progress as bigint) end as in_progress,
    case when step > 1 then cast(reached_previous - reached - in_progress as bigint) end as dropped,
    case when reached_first > 0 then cast(reached as double) / reached_first end as conversion_from_start
from steps
order by dimension, breakdown_value, step
