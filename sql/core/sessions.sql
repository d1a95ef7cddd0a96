-- grain: one clickstream session of one customer; key: (customer_id, session_seq)
-- Consecutive clickstream touchpoints less than $timeout_s apart form a session; a session longer
-- than $max_s is cut into consecutive $max_s pieces counted from its first event. CRM and service
-- events are touchpoints of their own and belong to no session. Durations are differences of
-- epoch_us (a plain subtraction; date_diff on timestamptz goes through the ICU calendar, ~20x slower).
with clicks as (
    select
        customer_id, event_seq, occurred_at, channel, event_name,
        (epoch_us(occurred_at) - epoch_us(lag(occurred_at) over (partition by customer_id order by event_seq)))
            / 1e6 as gap_s
    from core.touchpoints
    where source_kind = 'clickstream'
),

by_gap as (
    -- the gap session of a touchpoint is the latest one starting at or before it (event_seq orders
    -- a customer's touchpoints by time): its first event_seq and time, by running maxima in the
    -- window of the lag, instead of a running count and a second window for the start time
    select
        *,
        max(case when gap_s is null or gap_s >= $timeout_s then event_seq end) over w as gap_session,
        max(case when gap_s is null or gap_s >= $timeout_s then occurred_at end) over w as gap_started_at
    from clicks
    window w as (partition by customer_id order by event_seq rows between unbounded preceding and current row)
),

capped as (
    select
        *,
        floor((epoch_us(occurred_at) - epoch_us(gap_started_at)) / 1e6 / $max_s) as piece
    from by_gap
)

select
    customer_id,
    row_number() over (partition by customer_id order by min(event_seq)) as session_seq,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    (epoch_us(max(occurred_at)) - epoch_us(min(occurred_at))) / 1e6 as duration_s,
    count(*) as n_events,
    arg_min(event_name, event_seq) as first_event_name,
    arg_min(channel, event_seq) as channel
from capped
group by customer_id, gap_session, piece
