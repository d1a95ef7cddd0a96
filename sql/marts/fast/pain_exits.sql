-- grain: one touchpoint type (source, event_name) that is some customer's exit; key: (source, event_name)
-- DuckDB-only temp table for marts/fast/pain_points.sql, from pain_flagged. A customer's exit
-- candidate is its last non-survey touchpoint, found by one hash aggregate (arg_max); it is an
-- exit when the customer never reached the last stage and it is a whole window before as_of.
with per_customer as (
    select
        customer_id,
        coalesce(max(stage_index), 0) = (select max(stage_index) from marts.stages) as finished,
        arg_max({'source': source, 'event_name': event_name, 'occurred_at': occurred_at}, event_seq)
            filter (where not is_survey) as last_touch
    from pain_flagged
    group by customer_id
)

select last_touch.source as source, last_touch.event_name as event_name, count(*) as exits
from per_customer
where last_touch is not null
  and not finished
  and date_diff('microsecond', last_touch.occurred_at, $as_of) >= cast($window_s as double) * 1000000
group by last_touch.source, last_touch.event_name
