-- grain: one configured stage; key: stage
-- A visit's duration runs from its start to the start of the customer's next visit (completed)
-- or, for the last visit, to as_of (open, right-censored). median/p75/p90 are nearest-rank
-- percentiles of completed durations; km_median_s is the Kaplan-Meier median over completed and
-- open visits: the smallest completed duration t with S(t) <= 0.5, null when S never gets there.
with visits as (
    select
        stage_index,
        customer_id,
        ended_at is not null as is_completed,
        date_diff('microsecond', started_at, coalesce(ended_at, $as_of)) as duration_us
    from core.stage_visits
),

counts as (
    select
        stage_index,
        count(*) as visits,
        count(distinct customer_id) as customers,
        sum(case when is_completed then 1 else 0 end) as completed,
        sum(case when is_completed then 0 else 1 end) as open
    from visits
    group by stage_index
),

ranked_completed as (
    select
        stage_index,
        duration_us,
        row_number() over (partition by stage_index order by duration_us) as duration_rank,
        count(*) over (partition by stage_index) as n_completed
    from visits
    where is_completed
),

percentiles as (
    select
        stage_index,
        min(case when duration_rank * 100 >= n_completed * 50 then duration_us end) as median_us,
        min(case when duration_rank * 100 >= n_completed * 75 then duration_us end) as p75_us,
        min(case when duration_rank * 100 >= n_completed * 90 then duration_us end) as p90_us
    from ranked_completed
    group by stage_index
),

-- Kaplan-Meier: at each distinct duration t, d = completed visits ending at t and n = visits
-- still at risk (duration >= t, open ones included); S(t) = product over t_j <= t of (1 - d/n),
-- computed as exp(sum of logs); S is 0 from the first t where d = n.
km_times as (
    select
        stage_index,
        duration_us,
        sum(case when is_completed then 1 else 0 end) as n_events,
        count(*) as n_visits
    from visits
    group by stage_index, duration_us
),

km_at_risk as (
    select
        stage_index,
        duration_us,
        n_events,
        sum(n_visits) over (
            partition by stage_index order by duration_us desc
            rows between unbounded preceding and current row
        ) as n_at_risk
    from km_times
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
    from km_at_risk
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
    cast(p.median_us as double) / 1000000 as median_s,
    cast(p.p75_us as double) / 1000000 as p75_s,
    cast(p.p90_us as double) / 1000000 as p90_s,
    cast(k.km_median_us as double) / 1000000 as km_median_s
from marts.stages as s
left join counts as c
    on c.stage_index = s.stage_index
left join percentiles as p
    on p.stage_index = s.stage_index
left join km_median as k
    on k.stage_index = s.stage_index
order by s.stage_index
