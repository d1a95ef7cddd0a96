-- grain: one touchpoint type (source, event_name); key: (source, event_name)
-- DuckDB-only temp table for marts/fast/pain_points.sql: the customers of each touchpoint type
-- (surveys, in pain_surveys, excluded) and the earliest stage it occurs in.
select
    t.source,
    t.event_name,
    arg_min(t.stage, coalesce(t.stage_index, 2147483647)) as stage,
    count(distinct t.customer_id) as customers
from core.touchpoints as t
anti join pain_surveys as s using (customer_id, event_seq)
group by t.source, t.event_name
