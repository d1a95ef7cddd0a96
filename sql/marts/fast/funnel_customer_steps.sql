-- grain: one funnel step reached by the chosen attempt of one cohort customer; key: (customer_id, step)
-- DuckDB-only fast form of sql/marts/funnel_customer_steps.sql (same rows and types), read from
-- the temp table funnel_scan (sql/marts/fast/funnel_scan.sql) instead of a recursive CTE.
with unnested as (
    select
        customer_id,
        cast(generate_subscripts(reached_seq, 1) as integer) as step,
        unnest(reached_seq) as event_seq,
        unnest(reached_at) as reached_at,
        reached_at as all_reached_at
    from funnel_scan
)

select
    u.customer_id,
    u.step,
    s.stage,
    u.event_seq,
    u.reached_at,
    case when u.step > 1 then
        cast((epoch_us(u.reached_at) - epoch_us(u.all_reached_at[u.step - 1])) as double) / 1000000
    end as s_from_previous
from unnested as u
join marts.funnel_stages as s
    on s.step = u.step
