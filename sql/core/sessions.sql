-- grain: one clickstream session of one customer; key: (customer_id, session_seq)
-- Consecutive clickstream touchpoints less than $timeout_s apart form a session; a session longer
-- than $max_s is cut into consecutive $max_s pieces counted from its first event. CRM and service
-- events are touchpoints of their own and belong to no session.
with clicks as (
    select
        customer_id, event_seq, occurred_at, channel, event_name,
        date_diff('microsecond', lag(occurred_at) over (partition by customer_id order by event_seq), occurred_at)
            / 1e6 as gap_s
    from core.touchpoints
    where source_kind = 'clickstream'
),

by_gap as (
    select
        *,
        sum(case when gap_s is null or gap_s >= $timeout_s then 1 else 0 end)
            over (partition by customer_id order by event_seq) as gap_session
    from clicks
),

capped as (
    select
        *,
        floor(date_diff('microsecond', min(occurred_at) over (partition by customer_id, gap_session), occurred_at)
            / 1e6 / $max_s) as piece
    from by_gap
)

select
    customer_id,
    row_number() over (partition by customer_id order by min(event_seq)) as session_seq,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    date_diff('microsecond', min(occurred_at), max(occurred_at)) / 1e6 as duration_s,
    count(*) as n_events,
    arg_min(event_name, event_seq) as first_event_name,
    arg_min(channel, event_seq) as channel
from capped
group by customer_id, gap_session, piece
