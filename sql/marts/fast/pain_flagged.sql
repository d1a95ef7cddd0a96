-- grain: one touchpoint; key: (customer_id, event_seq)
-- DuckDB-only temp table for marts/fast/pain_points.sql: every touchpoint with its survey scores.
-- The survey properties are parsed only where the key's text (or any JSON escape) occurs.
select
    customer_id, event_seq, source, event_name, stage, stage_index, occurred_at,
    csat, nps, csat is not null or nps is not null as is_survey
from (
    select
        customer_id, event_seq, source, event_name, stage, stage_index, occurred_at,
        case when contains(props, $csat_key) or contains(props, '\')
            then try_cast(json_extract_string(props, '$."' || replace($csat_key, '"', '\"') || '"') as double)
        end as csat,
        case when contains(props, $nps_key) or contains(props, '\')
            then try_cast(json_extract_string(props, '$."' || replace($nps_key, '"', '\"') || '"') as double)
        end as nps
    from (select *, cast(properties as varchar) as props from core.touchpoints) as t
) as scored
