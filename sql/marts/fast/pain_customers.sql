-- grain: one customer; key: customer_id
-- DuckDB-only temp table for marts/fast/pain_points.sql, one hash aggregate over every touchpoint: whether
-- the customer reached the last stage; the exit candidate, its last non-survey touchpoint (not in
-- pain_surveys), by arg_max; and the types of its non-survey touchpoints as the bits of a UHUGEINT (codes
-- 0-127 of pain_type_codes) plus a list of any higher codes, so that customers per type are counted from
-- 1 row per customer instead of a COUNT(DISTINCT customer_id) over every touchpoint (2.5 s at 1e7).
select
    t.customer_id,
    coalesce(max(t.stage_index), 0) = (select max(stage_index) from marts.stages) as finished,
    arg_max({'source': t.source, 'event_name': t.event_name, 'occurred_at': t.occurred_at}, t.event_seq)
        filter (where s.event_seq is null) as last_touch,
    -- (a CASE, not the FILTER, guards the shift: the argument is computed for every row)
    bit_or(case when y.code < 128 then cast(1 as uhugeint) << cast(y.code as uhugeint) end)
        filter (where s.event_seq is null) as type_bits,
    list(y.code) filter (where s.event_seq is null and y.code >= 128) as other_types
from core.touchpoints as t
left join pain_surveys as s using (customer_id, event_seq)
left join pain_type_codes as y
    on y.source is not distinct from t.source and y.event_name is not distinct from t.event_name
where t.occurred_at <= $as_of
group by t.customer_id
