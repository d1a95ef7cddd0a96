-- grain: one touchpoint type (source, event_name); key: (source, event_name)
-- Where customers leave, and how they rate it (touchpoints at or before as_of). An exit is the last
-- (non-survey) touchpoint of a customer who never reached the last stage and has shown no activity for a
-- whole funnel window by as_of (so it is final, not just recent; finishing the journey is not leaving it).
-- A survey (an event carrying $csat_key or $nps_key) rates the customer's latest earlier non-survey touchpoint.
-- NPS = 100 * (promoters 9-10 - detractors 0-6) / responses. Ranked by exit rate among touchpoint
-- types with at least $min_customers customers; the rest get no rank.
with scored as (
    select
        t.customer_id, t.event_seq, t.source, t.event_name, t.stage, t.stage_index, t.occurred_at,
        try_cast(json_extract_string(t.properties, '$.' || $csat_key) as double) as csat,
        try_cast(json_extract_string(t.properties, '$.' || $nps_key) as double) as nps
    from core.touchpoints as t
    where t.occurred_at <= $as_of
),

touchpoints as (
    select
        *,
        csat is not null or nps is not null as is_survey,
        max(case when csat is null and nps is null then event_seq end) over (partition by customer_id) as last_seq,
        coalesce(max(stage_index) over (partition by customer_id), 0) = (select max(stage_index) from marts.stages)
            as finished
    from scored
),

rated as (
    -- the touchpoint each survey rates: the latest earlier touchpoint that is not itself a survey
    select
        customer_id, event_seq, source, event_name, stage, stage_index, occurred_at, csat, nps, last_seq, finished,
        is_survey,
        last_value(case when not is_survey then event_seq end ignore nulls) over (
            partition by customer_id order by event_seq rows between unbounded preceding and 1 preceding
        ) as rated_seq
    from touchpoints
),

ratings as (
    select s.customer_id, s.rated_seq as event_seq, s.csat, s.nps
    from rated as s
    where s.is_survey and s.rated_seq is not null
),

per_touchpoint as (
    select
        r.source,
        r.event_name,
        arg_min(r.stage, coalesce(r.stage_index, 2147483647)) as stage,  -- the earliest stage it occurs in
        count(distinct r.customer_id) as customers,
        count(distinct r.customer_id) filter (
            where r.event_seq = r.last_seq and not r.finished
                and date_diff('microsecond', r.occurred_at, $as_of) >= cast($window_s as double) * 1000000
        ) as exits,
        count(g.csat) as csat_responses,
        avg(g.csat) as avg_csat,
        count(g.nps) as nps_responses,
        cast(100 as double) * (count(*) filter (where g.nps >= 9) - count(*) filter (where g.nps <= 6)) / nullif(count(g.nps), 0) as nps
    from rated as r
    left join ratings as g using (customer_id, event_seq)
    where not r.is_survey
    group by r.source, r.event_name
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
