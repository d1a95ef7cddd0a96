-- grain: one funnel step for one breakdown value; key: (breakdown_value, step)
-- The breakdown value is the configured attribute (default: channel, i.e. first-touch channel) of
-- the chosen attempt's step-1 touchpoint. The top_n values by cohort customers (ties: value text)
-- keep their name; all others are summed into 'Other'. Every value gets a row for every step.
with ranked_values as (
    select
        breakdown_value,
        row_number() over (order by count(*) desc, breakdown_value) as value_rank
    from marts.funnel_customers
    group by breakdown_value
),

customers as (
    select
        case when v.value_rank <= $top_n then c.breakdown_value else 'Other' end as breakdown_value,
        c.deepest_step,
        c.is_in_progress
    from marts.funnel_customers as c
    join ranked_values as v
        on v.breakdown_value = c.breakdown_value
),

by_depth as (
    select
        breakdown_value,
        deepest_step,
        count(*) as n_customers,
        sum(case when is_in_progress then 1 else 0 end) as n_in_progress
    from customers
    group by breakdown_value, deepest_step
),

grid as (
    select g.breakdown_value, s.step as step, s.stage
    from (select distinct breakdown_value from customers) as g
    cross join marts.funnel_stages as s
),

reached as (
    select g.breakdown_value, g.step, g.stage, coalesce(sum(d.n_customers), 0) as reached
    from grid as g
    left join by_depth as d
        on d.breakdown_value = g.breakdown_value and d.deepest_step >= g.step
    group by g.breakdown_value, g.step, g.stage
),

waiting as (
    select g.breakdown_value, g.step, coalesce(max(d.n_in_progress), 0) as in_progress
    from grid as g
    left join by_depth as d
        on d.breakdown_value = g.breakdown_value and d.deepest_step = g.step - 1
    group by g.breakdown_value, g.step
),

steps as (
    select
        r.breakdown_value,
        r.step,
        r.stage,
        r.reached,
        lag(r.reached) over (partition by r.breakdown_value order by r.step) as reached_previous,
        first_value(r.reached) over (
            partition by r.breakdown_value order by r.step
            rows between unbounded preceding and unbounded following
        ) as reached_first,
        w.in_progress
    from reached as r
    join waiting as w
        on w.breakdown_value = r.breakdown_value and w.step = r.step
)

select
    breakdown_value,
    step,
    stage,
    cast(reached as bigint) as reached,
    case when step > 1 then cast(in_progress as bigint) end as in_progress,
    case when step > 1 then cast(reached_previous - reached - in_progress as bigint) end as dropped,
    case when reached_first > 0 then cast(reached as double) / reached_first end as conversion_from_start
from steps
order by breakdown_value, step
