-- grain: one survey touchpoint (an event carrying $csat_key or $nps_key); key: (customer_id, event_seq)
-- DuckDB-only temp table for marts/fast/pain_points.sql and its other temp tables: the few
-- touchpoints that are surveys, with their scores. The survey properties are parsed only where the
-- key's text (or any JSON escape) occurs.
select customer_id, event_seq, csat, nps
from (
    select
        customer_id,
        event_seq,
        case when contains(props, $csat_key) or contains(props, '\')
            then try_cast(json_extract_string(props, '$.' || $csat_key) as double)
        end as csat,
        case when contains(props, $nps_key) or contains(props, '\')
            then try_cast(json_extract_string(props, '$.' || $nps_key) as double)
        end as nps
    from (
        select customer_id, event_seq, cast(properties as varchar) as props
        from core.touchpoints
        where occurred_at <= $as_of
    ) as t
) as scored
where csat is not null or nps is not null
