-- grain: one touchpoint type (source, event_name); key: (source, event_name)
-- DuckDB-only fast form of sql/marts/pain_points.sql (same rows and types), without a window over
-- every touchpoint: the survey properties are parsed only where the key's text (or any JSON
-- escape) occurs; a customer's exit candidate is one hash aggregate (arg_max of the last
-- non-survey touchpoint); each survey finds the touchpoint it rates with an ASOF join restricted
-- to the customers who answered a survey; the three aggregates are joined per touchpoint type.
with flagged as materialized (
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
),

per_customer as (
    select
        customer_id,
        coalesce(max(stage_index), 0) = (select max(stage_index) from marts.stages) as finished,
        arg_max({'source': source, 'event_name': event_name, 'occurred_at': occurred_at}, event_seq)
            filter (where not is_survey) as last_touch
    from flagged
    group by customer_id
),

exits as (
    select last_touch.source as source, last_touch.event_name as event_name, count(*) as exits
    from per_customer
    where last_touch is not null
      and not finished
      and date_diff('microsecond', last_touch.occurred_at, $as_of) >= cast($window_s as double) * 1000000
    group by last_touch.source, last_touch.event_name
),

types as (
    select source, event_name, arg_min(stage, coalesce(stage_index, 2147483647)) as stage,
           count(distinct customer_id) as customers
    from flagged
    where not is_survey
    group by source, event_name
),

surveys as (
    select customer_id, event_seq, csat, nps
    from flagged
    where is_survey
),

rateable as (
    select f.customer_id, f.event_seq, f.source, f.event_name
    from flagged as f
    semi join surveys as s on s.customer_id = f.customer_id
    where not f.is_survey
),

ratings as (
    -- the touchpoint a survey rates: the latest earlier touchpoint that is not itself a survey
    select r.source, r.event_name, s.csat, s.nps
    from surveys as s
    asof join rateable as r
        on r.customer_id = s.customer_id and s.event_seq > r.event_seq
),

per_rated as (
    select
        source,
        event_name,
        count(csat) as csat_responses,
        avg(csat) as avg_csat,
        count(nps) as nps_responses,
        count(*) filter (where nps >= 9) - count(*) filter (where nps <= 6) as nps_net
    from ratings
    group by source, event_name
),

per_touchpoint as (
    select
        t.source,
        t.event_name,
        t.stage,
        t.customers,
        coalesce(e.exits, 0) as exits,
        coalesce(r.csat_responses, 0) as csat_responses,
        r.avg_csat,
        coalesce(r.nps_responses, 0) as nps_responses,
        100.0 * r.nps_net / nullif(r.nps_responses, 0) as nps
    from types as t
    left join exits as e
        on e.source is not distinct from t.source and e.event_name is not distinct from t.event_name
    left join per_rated as r
        on r.source is not distinct from t.source and r.event_name is not distinct from t.event_name
)

select
    case when customers >= $min_customers
        then row_number() over (order by customers >= $min_customers desc, exits / customers desc, source, event_name)
    end as rank,
    source,
    event_name,
    stage,
    customers,
    exits,
    exits / customers as exit_rate,
    csat_responses,
    avg_csat,
    nps_responses,
    nps
from per_touchpoint
order by rank nulls last, source, event_name
