-- grain: one customer of the funnel cohort (a step-1 touchpoint at or before as_of); key: customer_id
-- The chosen attempt per customer (see funnel_customer_steps): its start, deepest step, reach time
-- of every step reached (reached_at[k] = step k, k = 1 .. deepest_step), the breakdown value taken
-- from the attempt's step-1 touchpoint, and whether the customer is still in progress: not at the
-- last step, and some attempt's window still open at as_of (start + window > as_of). That is the
-- latest attempt's, which may not be the chosen one: an older attempt can be deeper, and the latest
-- can still go deeper than it.
with steps as (
    select customer_id, step, event_seq, reached_at
    from marts.funnel_customer_steps
),

per_customer as (
    select
        customer_id,
        max(step) as deepest_step,
        min(case when step = 1 then event_seq end) as attempt_start_seq,
        min(case when step = 1 then reached_at end) as attempt_started_at,
        -- reach times never decrease with the step, so sorting by time orders them by step
        array_sort(list(reached_at)) as reached_at
    from steps
    group by customer_id
),

latest_start as (
    -- the latest step-1 touchpoint: the start of the customer's latest attempt (a touchpoint's step as
    -- in funnel_customer_steps: the touchpoint step naming its label, else its stage's step)
    select t.customer_id, max(t.occurred_at) as started_at
    from core.touchpoints as t
    left join marts.funnel_stages as e
        on e.stage_index is null and e.stage = t.source || ':' || t.event_name
    left join marts.funnel_stages as s
        on s.stage_index = t.stage_index
    where t.occurred_at <= $as_of
      and coalesce(e.step, s.step) = 1
    group by t.customer_id
),

last_step as (
    select max(step) as n_steps
    from marts.funnel_stages
)

select
    p.customer_id,
    p.attempt_started_at,
    p.attempt_start_seq,
    p.deepest_step,
    s.stage as deepest_stage,
    coalesce(
        case $breakdown
            when 'channel' then t.channel
            when 'source' then t.source
            when 'source_kind' then t.source_kind
            when 'event_name' then t.event_name
        end,
        '(none)'
    ) as breakdown_value,
    p.deepest_step < l.n_steps
        and date_diff('microsecond', ls.started_at, $as_of) < cast($window_s as double) * 1000000
        as is_in_progress,
    p.reached_at
from per_customer as p
cross join last_step as l
join latest_start as ls
    on ls.customer_id = p.customer_id
join marts.funnel_stages as s
    on s.step = p.deepest_step
join core.touchpoints as t
    on t.customer_id = p.customer_id and t.event_seq = p.attempt_start_seq
