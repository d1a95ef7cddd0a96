-- grain: one funnel row that breaks monotonicity; zero rows = pass
-- reached never grows from one step to the next, and in_progress / dropped are never negative,
-- in the overall funnel and in every breakdown value.
with overall as (
    select
        'funnel_steps' as mart,
        cast(null as varchar) as breakdown_value,
        step,
        reached,
        lag(reached) over (order by step) as reached_previous,
        in_progress,
        dropped
    from marts.funnel_steps
),

by_value as (
    select
        'funnel_breakdown' as mart,
        breakdown_value,
        step,
        reached,
        lag(reached) over (partition by dimension, breakdown_value order by step) as reached_previous,
        in_progress,
        dropped
    from marts.funnel_breakdown
),

all_rows as (
    select * from overall
    union all
    select * from by_value
)

select mart, breakdown_value, step, reached, reached_previous, in_progress, dropped
from all_rows
where reached > reached_previous
   or in_progress < 0
   or dropped < 0
