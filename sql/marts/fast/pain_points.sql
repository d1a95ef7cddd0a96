-- grain: one touchpoint type (source, event_name); key: (source, event_name)
-- DuckDB-only fast form of sql/marts/pain_points.sql (same rows and types), without a window over
-- every touchpoint. Built after the temp tables pain_surveys (the few survey touchpoints, the only
-- ones whose properties are parsed), pain_type_codes and pain_customers (one aggregate each, run one after
-- the other so that at scale no two large hash tables compete for memory): exits and customers per type
-- are counted from one row per customer. Each survey finds the touchpoint it rates with an ASOF join over
-- the few touchpoints followed by a survey.
with exits as (
    select last_touch.source as source, last_touch.event_name as event_name, count(*) as exits
    from pain_customers
    where last_touch is not null
      and not finished
      and (epoch_us($as_of) - epoch_us(last_touch.occurred_at)) >= cast($window_s as double) * 1000000
    group by last_touch.source, last_touch.event_name
),

type_sets as (
    -- customers per set of types (far fewer sets than customers)
    select type_bits, count(*) as n
    from pain_customers
    where type_bits is not null
    group by type_bits
),

type_customers as (
    -- a customer counts once per type: a set bit, or a code in its list of higher codes
    select y.code, cast(sum(t.n) as bigint) as customers
    from type_sets as t
    join (select code from pain_type_codes where code < 128) as y
        on (t.type_bits >> cast(y.code as uhugeint)) & 1 = 1
    group by y.code
    union all
    select code, count(*)
    from (select unnest(list_distinct(other_types)) as code from pain_customers where other_types is not null)
    group by code
),

types as (
    select y.source, y.event_name, y.stage, c.customers
    from pain_type_codes as y
    join type_customers as c using (code)
),

surveys as (
    select customer_id, event_seq, csat, nps
    from pain_surveys
),

rateable as (
    -- the only touchpoints a survey can rate: the one a survey s rates is the last non-survey one
    -- before s, so the next touchpoint (event_seq + 1: event_seq numbers every touchpoint of the
    -- customer 1, 2, ...) is a survey, s or one before it
    select t.customer_id, t.event_seq, t.source, t.event_name
    from core.touchpoints as t
    join surveys as s on s.customer_id = t.customer_id and s.event_seq = t.event_seq + 1
    anti join surveys as self on self.customer_id = t.customer_id and self.event_seq = t.event_seq
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
        cast(100 as double) * r.nps_net / nullif(r.nps_responses, 0) as nps
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
