-- grain: one touchpoint type (source, event_name); key: (source, event_name)
-- DuckDB-only temp table for marts/fast/pain_points.sql, from pain_flagged: the customers of each
-- non-survey touchpoint type and the earliest stage it occurs in.
select
    source,
    event_name,
    arg_min(stage, coalesce(stage_index, 2147483647)) as stage,
    count(distinct customer_id) as customers
from pain_flagged
where not is_survey
group by source, event_name
