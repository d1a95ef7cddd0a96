-- grain: one negative duration; zero rows = pass
-- Visits never end before they start, and no reported time (funnel, time in stage,
-- stage to stage) is negative.
with checks as (
    select 'core.stage_visits' as source, customer_id as item,
        cast(date_diff('microsecond', started_at, ended_at) as double) / 1000000 as seconds
    from core.stage_visits
    where ended_at < started_at  -- the same test as a negative duration, without computing 3.5 M of them
    union all
    select 'marts.funnel_customer_steps', customer_id, s_from_previous
    from marts.funnel_customer_steps
    union all
    select 'marts.funnel_steps', stage, median_s_to_convert from marts.funnel_steps
    union all
    select 'marts.funnel_steps', stage, p90_s_to_convert from marts.funnel_steps
    union all
    select 'marts.time_in_stage', stage, median_s from marts.time_in_stage
    union all
    select 'marts.time_in_stage', stage, p75_s from marts.time_in_stage
    union all
    select 'marts.time_in_stage', stage, p90_s from marts.time_in_stage
    union all
    select 'marts.time_in_stage', stage, km_median_s from marts.time_in_stage
    union all
    select 'marts.stage_to_stage', from_stage, median_s from marts.stage_to_stage
    union all
    select 'marts.stage_to_stage', from_stage, p90_s from marts.stage_to_stage
)

select source, item, seconds
from checks
where seconds < 0
