-- grain: one customer of the funnel cohort (a step-1 touchpoint at or before as_of); key: customer_id
-- DuckDB-only fast form (not portable: ordered list(), lambdas, list indexing) of the chosen attempt
-- that sql/marts/funnel_customer_steps.sql computes; tests/metrics/test_fast_marts.py proves both
-- give identical marts. The customer's funnel touchpoints are ordered once, into one list, and the
-- one-pass rule of docs/metrics.md runs over it as a fold (list_reduce). The state holds, per step
-- k, the latest-started live attempt that is at step k (its start's list position, 0 = none): a
-- step-1 touchpoint puts a new attempt at step 1 (the attempt it replaces got nothing the new one
-- cannot get later, with more window); a step-k touchpoint moves the attempt at step k-1 to step k
-- when within the window of its start. The chosen attempt is at the deepest non-empty step; its
-- touchpoints are its greedy chain (each step the first touchpoint of that step after the previous).
with events as (
    select
        t.customer_id,
        -- seq first: sorting the structs orders them by event_seq (unique per customer)
        {
            'seq': t.event_seq,
            'step': f.step,
            'at': t.occurred_at,
            'value': case $breakdown
                when 'channel' then t.channel
                when 'source' then t.source
                when 'source_kind' then t.source_kind
                when 'event_name' then t.event_name
            end
        } as event
    from core.touchpoints as t
    join marts.funnel_stages as f
        on f.stage_index = t.stage_index
    where t.occurred_at <= $as_of
),

lists as (
    -- one unordered list per customer (a hash aggregate), sorted once inside the list
    select customer_id, list_sort(list(event)) as events
    from events
    group by customer_id
    having min(event.step) = 1
),

scanned as (
    select
        l.customer_id,
        l.events,
        list_reduce(
            range(1, len(l.events) + 1),
            lambda state, p: case
                when l.events[p].step = 1 then
                    list_transform(range(1, n.n_steps + 1), lambda j: case when j = 1 then p else state[j] end)
                when state[l.events[p].step - 1] > 0
                    and date_diff('microsecond', l.events[state[l.events[p].step - 1]].at, l.events[p].at)
                        < cast($window_s as double) * 1000000 then
                    list_transform(
                        range(1, n.n_steps + 1),
                        lambda j: case
                            when j = l.events[p].step then state[j - 1]
                            when j = l.events[p].step - 1 then 0
                            else state[j]
                        end
                    )
                else state
            end,
            list_transform(range(1, n.n_steps + 1), lambda j: cast(0 as bigint))
        ) as state
    from lists as l
    cross join (select max(step) as n_steps from marts.funnel_stages) as n
),

chosen as (
    select
        customer_id,
        events,
        cast(list_max(list_transform(range(1, len(state) + 1), lambda j: case when state[j] > 0 then j else 0 end))
            as integer) as deepest_step,
        state
    from scanned
),

chains as (
    select
        customer_id,
        deepest_step,
        events,
        list_reduce(
            range(2, deepest_step + 1),
            lambda chain, k: list_append(
                chain, chain[len(chain)] + list_position(list_transform(list_slice(events, chain[len(chain)] + 1, len(events)), lambda e: e.step), k)
            ),
            [state[deepest_step]]
        ) as chain
    from chosen
)

select
    customer_id,
    deepest_step,
    events[chain[1]].value as breakdown_value,
    list_transform(chain, lambda p: events[p].seq) as reached_seq,
    list_transform(chain, lambda p: events[p].at) as reached_at
from chains
