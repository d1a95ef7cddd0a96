-- grain: one configured stage; key: stage
-- DuckDB-only fast form of sql/marts/time_in_stage.sql (same rows and types), read from the temp
-- table visit_rows. One window over the visits in duration order gives, per distinct duration, the
-- counts, the nearest-rank percentiles (the smallest duration whose cumulative completed count reaches
-- the rank) and the Kaplan-Meier at-risk counts (a group by (stage, duration) first cost more than
-- the window: the durations are nearly all distinct); customers per stage come
-- from each customer's stage list (on the last visit) instead of a COUNT(DISTINCT customer_id).
-- The Kaplan-Meier survival sum is the portable window over the same rows (same floating point).
with visits as (
    select
        stage_index,
        ended_at is not null as is_completed,
        (epoch_us(coalesce(ended_at, $as_of)) - epoch_us(started_at)) as duration_us
    from visit_rows
),

stage_customers as (
    select stage_index, count(*) as customers
    from (
        select unnest(list_distinct(stage_list)) as stage_index
        from visit_rows
        where ended_at is null
    )
    group by stage_index
),

-- the visits in duration order, per stage, in one sort: completed visits up to each duration (ties
-- included, the default frame), up to each row, its rank (1 + visits with a shorter duration), and
-- the stage totals
ranked as (
    select
        stage_index,
        duration_us,
        case when is_completed then 1 else 0 end as completed,
        sum(case when is_completed then 1 else 0 end) over by_duration as cum_events,
        sum(case when is_completed then 1 else 0 end) over (
            by_duration rows between unbounded preceding and current row
        ) as cum_rows,
        rank() over by_duration as duration_rank,
        row_number() over by_duration as row_rank,
        count(*) over (partition by stage_index) as n_stage_visits,
        sum(case when is_completed then 1 else 0 end) over (partition by stage_index) as n_completed
    from visits
    window by_duration as (partition by stage_index order by duration_us)
),

-- per distinct duration t (the first visit of its tie): completed visits ending at t, completed
-- visits up to t, and the visits still at risk at t (duration >= t)
km_times as (
    select
        stage_index,
        duration_us,
        cum_events - (cum_rows - completed) as n_events,
        cum_events,
        n_stage_visits - duration_rank + 1 as n_at_risk,
        n_stage_visits,
        n_completed
    from ranked
    where row_rank = duration_rank
),

counts as (
    select
        k.stage_index,
        cast(min(k.n_stage_visits) as bigint) as visits,
        min(sc.customers) as customers,
        min(k.n_completed) as completed,
        min(k.n_stage_visits) - min(k.n_completed) as open,
        min(case when k.cum_events * 100 >= k.n_completed * 50 and k.n_completed > 0 then k.duration_us end)
            as median_us,
        min(case when k.cum_events * 100 >= k.n_completed * 75 and k.n_completed > 0 then k.duration_us end)
            as p75_us,
        min(case when k.cum_events * 100 >= k.n_completed * 90 and k.n_completed > 0 then k.duration_us end)
            as p90_us
    from km_times as k
    join stage_customers as sc
        on sc.stage_index = k.stage_index
    group by k.stage_index
),

km_survival as (
    select
        stage_index,
        duration_us,
        sum(case when n_events < n_at_risk then ln(1 - cast(n_events as double) / n_at_risk) else 0 end) over (
            partition by stage_index order by duration_us
            rows between unbounded preceding and current row
        ) as log_survival,
        max(case when n_events = n_at_risk then 1 else 0 end) over (
            partition by stage_index order by duration_us
            rows between unbounded preceding and current row
        ) as is_exhausted
    from km_times
    where n_events > 0
),

km_median as (
    select stage_index, min(duration_us) as km_median_us
    from km_survival
    -- S(t) <= 0.5, with a 1e-9 tolerance on the log for floating-point rounding
    where is_exhausted = 1 or log_survival <= ln(0.5) + 1e-9
    group by stage_index
)

select
    s.stage,
    coalesce(c.visits, 0) as visits,
    coalesce(c.customers, 0) as customers,
    cast(coalesce(c.completed, 0) as bigint) as completed,
    cast(coalesce(c.open, 0) as bigint) as open,
    cast(c.median_us as double) / 1000000 as median_s,
    cast(c.p75_us as double) / 1000000 as p75_s,
    cast(c.p90_us as double) / 1000000 as p90_s,
    cast(k.km_median_us as double) / 1000000 as km_median_s
from marts.stages as s
left join counts as c
    on c.stage_index = s.stage_index
left join km_median as k
    on k.stage_index = s.stage_index
order by s.stage_index
