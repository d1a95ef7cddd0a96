-- grain: one touchpoint type (source, event_name) of a non-survey touchpoint; key: (source, event_name)
-- DuckDB-only temp table for marts/fast/pain_points.sql: each touchpoint type (surveys, in pain_surveys,
-- excluded), the earliest stage it occurs in, and a small code, the most frequent types first, so that
-- pain_customers can hold a customer's types as the bits of one number (codes 0-127) and list the rest.
select
    t.source,
    t.event_name,
    arg_min(t.stage, coalesce(t.stage_index, 2147483647)) as stage,
    cast(row_number() over (order by count(*) desc, t.source, t.event_name) - 1 as integer) as code
from core.touchpoints as t
anti join pain_surveys as s using (customer_id, event_seq)
where t.occurred_at <= $as_of
group by t.source, t.event_name
