-- grain: one touchpoint type (source, event_name) that is some customer's exit; key: (source, event_name)
-- DuckDB-only temp table for marts/fast/pain_points.sql. A customer's exit candidate is its last
-- non-survey touchpoint (not in pain_surveys), found by one hash aggregate (arg_max); it is an exit
-- when the customer never reached the last stage and it is a whole window before as_of.
with per_customer as (
    select
        t.customer_id,
        coalesce(max(t.stage_index), 0) = (select max(stage_index) from marts.stages) as finished,
        arg_max({'source': t.source, 'event_name': t.event_name, 'occurred_at': t.occurred_at}, t.event_seq)
            filter (where s.event_seq is null) as last_touch
    from core.touchpoints as t
    left join pain_surveys as s using (customer_id, event_seq)
    group by t.customer_id
)

select last_touch.source as source, last_touch.event_name as event_name, count(*) as exits
from per_customer
where last_touch is not null
  and not finished
  and (epoch_us($as_of) - epoch_us(last_touch.occurred_at)) >= cast($window_s as double) * 1000000
group by last_touch.source, last_touch.event_name
