-- grain: one customer of the funnel cohort (a step-1 touchpoint at or before as_of); key: customer_id
-- DuckDB-only fast form of sql/marts/funnel_customers.sql (same rows and types), read from the temp
-- table funnel_scan (sql/marts/fast/funnel_scan.sql) instead of a group by of the reached steps; the
-- breakdown value is fetched from the attempt's step-1 touchpoint, as in the portable file.
select
    f.customer_id,
    f.reached_at[1] as attempt_started_at,
    f.reached_seq[1] as attempt_start_seq,
    f.deepest_step,
    s.stage as deepest_stage,
    coalesce(
        case $breakdown
            when 'channel' then t.channel
            when 'source' then t.source
            when 'source_kind' then t.source_kind
            when 'event_name' then t.event_name
        end,
        '(none)'
    ) as breakdown_value,
    f.deepest_step < l.n_steps
        and (epoch_us($as_of) - epoch_us(f.latest_start_at)) < cast($window_s as double) * 1000000
        as is_in_progress,
    f.reached_at
from funnel_scan as f
cross join (select max(step) as n_steps from marts.funnel_stages) as l
join marts.funnel_stages as s
    on s.step = f.deepest_step
join core.touchpoints as t
    on t.customer_id = f.customer_id and t.event_seq = f.reached_seq[1]
