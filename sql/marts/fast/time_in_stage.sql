-- grain: one configured stage; key: stage
-- DuckDB-only fast form of sql/marts/time_in_stage.sql (same rows and types), read from the temp
-- table visit_rows. One window over the visits in duration order gives, per distinct duration, the
-- nearest-rank percentiles (the smallest duration whose cumulative completed count reaches the rank)
-- and the Kaplan-Meier at-risk counts (a group by (stage, duration) first cost more than the window:
-- the durations are nearly all distinct). The counts per stage are one group by, not partition-wide
-- window aggregates; customers per stage count the visits flagged as a customer's first of that stage
-- (visit_rows.is_first_of_stage) instead of a COUNT(DISTINCT customer_id).
-- The Kaplan-Meier survival sum is the portable window over the same rows (same floating point).
with visits as (
    select
        stage_index,
        is_first_of_stage,
        ended_at is not null as is_completed,
        (epoch_us(coalesce(ended_at, $as_of)) - epoch_us(started_at)) as duration_us
    from visit_rows
),

totals as (
    select
        stage_index,
        count(*) as n_stage_visits,
        count(*) filter (where is_completed) as n_completed,
        count(*) filter (where is_first_of_stage) as customers
    from visits
    group by stage_index
),

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
        row_number() over by_duration as row_rank
    from visits
    window by_duration as (partition by stage_index order by duration_us)
),

km_times as (
    select
        r.stage_index,
        r.duration_us,
        r.cum_events - (r.cum_rows - r.completed) as n_events,
        r.cum_events,
        t.n_stage_visits - r.duration_rank + 1 as n_at_risk,
        t.n_completed
    from ranked as r
    join totals as t
        on t.stage_index = r.stage_index
    where r.row_rank = r.duration_rank
),

percentiles as (
    select
        stage_index,
        min(case when cum_events * 100 >= n_completed * 50 and n_completed > 0 then duration_us end) as median_us,
        min(case when cum_events * 100 >= n_completed * 75 and n_completed > 0 then duration_us end) as p75_us,
        min(case when cum_events * 100 >= n_completed * 90 and n_completed > 0 then duration_us end) as p90_us
    from km_times
    group by stage_index
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
    where is_exhausted = 1 or log_survival <= ln(0.5) + 1e-9
    group by stage_index
)

select
    s.stage,
    coalesce(t.n_stage_visits, 0) as visits,
    coalesce(t.customers, 0) as customers,
    cast(coalesce(t.n_completed, 0) as bigint) as completed,
    cast(coalesce(t.n_stage_visits - t.n_completed, 0) as bigint) as open,
    cast(p.median_us as double) / 1000000 as median_s,
    cast(p.p75_us as double) / 1000000 as p75_s,
    cast(p.p90_us as double) / 1000000 as p90_s,
    cast(k.km_median_us as double) / 1000000 as km_median_s
from marts.stages as s
left join totals as t
    on t.stage_index = s.stage_index
left join percentiles as p
    on p.stage_index = s.stage_index
left join km_median as k
    on k.stage_index = s.stage_index
order by s.stage_index
