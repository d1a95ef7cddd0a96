-- grain: one funnel step (a row of marts.funnel_stages); key: step
-- reached(k): cohort customers whose chosen attempt reached step k. in_progress(k): customers at
-- step k-1 still in progress (their latest attempt's window open);
-- dropped(k) = reached(k-1) - reached(k) - in_progress(k).
-- Step 1 has no previous step: in_progress, dropped and conversion_from_previous are null there.
-- Times are seconds from step k-1 to step k of the chosen attempt; percentiles are nearest-rank.
with customers as (
    select deepest_step, is_in_progress
    from marts.funnel_customers
),

by_depth as (
    select
        deepest_step,
        count(*) as n_customers,
        sum(case when is_in_progress then 1 else 0 end) as n_in_progress
    from customers
    group by deepest_step
),

reached as (
    select s.step, s.stage, coalesce(sum(d.n_customers), 0) as reached
    from marts.funnel_stages as s
    left join by_depth as d
        on d.deepest_step >= s.step
    group by s.step, s.stage
),

waiting as (
    select s.step, coalesce(max(d.n_in_progress), 0) as in_progress
    from marts.funnel_stages as s
    left join by_depth as d
        on d.deepest_step = s.step - 1
    group by s.step
),

ranked_times as (
    select
        step,
        s_from_previous,
        row_number() over (partition by step order by s_from_previous) as time_rank,
        count(*) over (partition by step) as n_times
    from marts.funnel_customer_steps
    where step > 1
),

times as (
    select
        step,
        min(case when time_rank * 100 >= n_times * 50 then s_from_previous end) as median_s,
        min(case when time_rank * 100 >= n_times * 90 then s_from_previous end) as p90_s
    from ranked_times
    group by step
),

steps as (
    select
        r.step,
        r.stage,
        cast(r.reached as bigint) as reached,
        lag(r.reached) over (order by r.step) as reached_previous,
        first_value(r.reached) over (
            order by r.step rows between unbounded preceding and unbounded following
        ) as reached_first,
        cast(w.in_progress as bigint) as in_progress
    from reached as r
    join waiting as w
        on w.step = r.step
)

select
    s.step,
    s.stage,
    s.reached,
    case when s.step > 1 then s.in_progress end as in_progress,
    case when s.step > 1 then cast(s.reached_previous - s.reached - s.in_progress as bigint) end as dropped,
    case when s.reached_first > 0 then cast(s.reached as double) / s.reached_first end
        as conversion_from_start,
    case when s.reached_previous > 0 then cast(s.reached as double) / s.reached_previous end
        as conversion_from_previous,
    t.median_s as median_s_to_convert,
    t.p90_s as p90_s_to_convert
from steps as s
left join times as t
    on t.step = s.step
order by s.step
