-- grain: one customer of the funnel cohort (a step-1 touchpoint at or before as_of); key: customer_id
-- DuckDB-only fast form (not portable: lists, lambdas) of the chosen attempt that
-- sql/marts/funnel_customer_steps.sql computes; tests/metrics/test_fast_marts.py proves both give
-- identical marts. Same method as the portable file (docs/metrics.md): every attempt worth following
-- advances on its own along its greedy chain, and the deepest, latest-started on ties, is chosen;
-- but over one sorted list of the customer's funnel touchpoints (the temp table funnel_lists), so
-- following a chain is list indexing (one step per iteration for all attempts at once), not a join per step.
with early as (
    -- positions of the step-1 and step-2 touchpoints, in order
    select *, list_filter(range(1, len(step) + 1), lambda i: step[i] <= 2) as early
    from funnel_lists
),

starts as (
    -- attempts worth following: a step-1 touchpoint not followed by another step-1 touchpoint
    -- before any step-2 touchpoint (that later one reaches the same step-2 touchpoint with more window)
    select
        customer_id, seq, step, ts,
        list_transform(
            list_filter(range(1, len(early) + 1),
                        lambda j: step[early[j]] = 1 and (j = len(early) or step[early[j + 1]] = 2)),
            lambda j: early[j]
        ) as starts
    from early
),

folded as (
    -- A customer with more than $fold_after attempts worth following (a crawler's cookie: thousands) would cost
    -- attempts x touchpoints below, each chain searching the rest of the list. For them the one-pass rule of
    -- docs/metrics.md runs as a fold instead, linear in the touchpoints: the state holds, per step k, the start
    -- (list position, 0 = none) of the latest-started attempt at step k. A step-1 touchpoint puts a new attempt
    -- at step 1 (the one it replaces cannot get anything the new one cannot, with more window); a step-k
    -- touchpoint moves the attempt at step k-1 to step k when within the window of its start. Only the
    -- attempt at the deepest step, the chosen one, is then followed below.
    select
        *,
        case when len(starts) > $fold_after then list_reduce(
            range(1, len(step) + 1),
            lambda state, p: case
                when step[p] = 1 then list_transform(range(1, len(state) + 1),
                                                     lambda j: case when j = 1 then p else state[j] end)
                when state[step[p] - 1] > 0
                    and (epoch_us(ts[p]) - epoch_us(ts[state[step[p] - 1]])) < cast($window_s as double) * 1000000
                    then list_transform(range(1, len(state) + 1), lambda j: case
                        when j = step[p] then state[j - 1]
                        when j = step[p] - 1 then 0
                        else state[j]
                    end)
                else state
            end,
            list_transform(range(1, list_max(step) + 1), lambda j: cast(0 as bigint))
        ) end as state
    from starts
),

followed as (
    select
        *,
        case when state is null then starts
            else [state[list_max(list_filter(range(1, len(state) + 1), lambda j: state[j] > 0))]] end as followed
    from folded
),

chains as (
    -- each followed attempt's greedy chain: step k is the first step-k touchpoint after its step k-1
    -- touchpoint, if less than the window after the attempt's start; steps beyond the customer's
    -- highest one are not tried (none can be found)
    select
        customer_id, seq, ts, starts,
        list_transform(
            followed,
            lambda s: list_reduce(
                range(2, list_max(step) + 1),
                -- p: position of the first step-k touchpoint after the chain's last one (bound once
                -- through a one-element list), or null
                lambda chain, k: list_transform(
                    [case when len(chain) = k - 1
                        then chain[k - 1] + list_position(list_slice(step, chain[k - 1] + 1, len(step)), k) end],
                    lambda p: case
                        when p > chain[k - 1]
                            and (epoch_us(ts[p]) - epoch_us(ts[s])) < cast($window_s as double) * 1000000
                        then list_append(chain, p)
                        else chain
                    end
                )[1],
                [s]
            )
        ) as chains
    from followed
),

chosen as (
    -- the deepest chain, the latest-started on ties (chains are in start order); and the start of the
    -- latest attempt (the last step-1 touchpoint is always worth following), which decides whether
    -- the customer is still in progress
    select
        customer_id, seq, ts, ts[starts[len(starts)]] as latest_start_at,
        chains[len(chains) + 1 - list_position(list_reverse(list_transform(chains, lambda c: len(c))),
                                               list_max(list_transform(chains, lambda c: len(c))))] as chain
    from chains
)

select
    customer_id,
    cast(len(chain) as integer) as deepest_step,
    latest_start_at,
    list_transform(chain, lambda p: seq[p]) as reached_seq,
    list_transform(chain, lambda p: ts[p]) as reached_at
from chosen
