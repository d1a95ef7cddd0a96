-- grain: one funnel step reached by the chosen attempt of one cohort customer; key: (customer_id, step)
-- Steps are marts.funnel_stages (default: every stage in order). A touchpoint is of the step that names
-- its label source:event_name (a touchpoint step, stage_index null), else of its stage's step, if any.
-- This is the set-based form of the one-pass "latest start" rule of docs/metrics.md: every attempt (a
-- step-1 touchpoint) advances on its own, step k being the first step-k touchpoint after its step k-1
-- touchpoint, if less than the window after the attempt start; the chosen attempt is the deepest, the
-- latest-started on ties.
-- It gives exactly the one-pass result (proof in docs/metrics.md; tests/metrics compare both).
with recursive

events as (
    select t.customer_id, t.event_seq, t.occurred_at, coalesce(e.step, s.step) as step
    from core.touchpoints as t
    left join marts.funnel_stages as e
        on e.stage_index is null and e.stage = t.source || ':' || t.event_name
    left join marts.funnel_stages as s
        on s.stage_index = t.stage_index
    where t.occurred_at <= $as_of
      and coalesce(e.step, s.step) is not null
),

-- Every touchpoint is a probe that looks for the next touchpoint of the following step, and a
-- target for probes of the previous step. One window per (customer, step looked for) finds, for
-- each probe, the first later target: one ordering of the events, no per-hop range join.
pointer_rows as (
    select
        customer_id, step + 1 as step_wanted, event_seq, occurred_at, true as is_probe,
        cast(null as bigint) as target_seq, cast(null as timestamptz) as target_at
    from events
    union all
    select
        customer_id, step as step_wanted, event_seq, occurred_at, false as is_probe,
        event_seq as target_seq, occurred_at as target_at
    from events
),

pointers as (
    select
        customer_id,
        event_seq,
        occurred_at,
        step_wanted - 1 as step,
        is_probe,
        min(target_seq) over (
            partition by customer_id, step_wanted order by event_seq
            rows between current row and unbounded following
        ) as next_seq,
        -- times never decrease along event_seq, so the smallest later time is the next target's time
        min(target_at) over (
            partition by customer_id, step_wanted order by event_seq
            rows between current row and unbounded following
        ) as next_at,
        lead(is_probe) over (partition by customer_id, step_wanted order by event_seq) as is_next_probe
    from pointer_rows
),

-- A step-1 touchpoint followed by another step-1 touchpoint before any step-2 touchpoint is
-- dominated: both reach the same step-2 touchpoint and the later one has more window left, so
-- the earlier can never be the chosen attempt. Only the last of such a run starts an attempt here.
attempts as (
    select customer_id, event_seq as start_seq, occurred_at as started_at
    from pointers
    where is_probe
      and step = 1
      and coalesce(is_next_probe, false) = false
),

chain (customer_id, start_seq, started_at, step, event_seq, reached_at) as (
    select customer_id, start_seq, started_at, 1, start_seq, started_at
    from attempts
    union all
    select c.customer_id, c.start_seq, c.started_at, c.step + 1, p.next_seq, p.next_at
    from chain as c
    join pointers as p
        on p.customer_id = c.customer_id and p.event_seq = c.event_seq and p.is_probe
    where p.next_seq is not null
      and date_diff('microsecond', c.started_at, p.next_at) < cast($window_s as double) * 1000000
),

attempt_depths as (
    select customer_id, start_seq, max(step) as deepest_step
    from chain
    group by customer_id, start_seq
),

chosen as (
    select customer_id, start_seq
    from (
        select
            customer_id, start_seq,
            row_number() over (
                partition by customer_id order by deepest_step desc, start_seq desc
            ) as attempt_rank
        from attempt_depths
    ) as ranked
    where attempt_rank = 1
)

select
    c.customer_id,
    c.step,
    s.stage,
    c.event_seq,
    c.reached_at,
    cast(
        date_diff(
            'microsecond',
            lag(c.reached_at) over (partition by c.customer_id order by c.step),
            c.reached_at
        ) as double
    ) / 1000000 as s_from_previous
from chain as c
join chosen as ch
    on ch.customer_id = c.customer_id and ch.start_seq = c.start_seq
join marts.funnel_stages as s
    on s.step = c.step
