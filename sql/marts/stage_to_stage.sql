-- grain: one pair of consecutive configured stages (k, k+1); key: (from_stage, to_stage)
-- Per customer: from the first entry (visit start) of stage k to the first entry of stage k+1
-- that comes later in the customer's visit order. customers = customers with such a pair;
-- median_s/p90_s are nearest-rank percentiles of those seconds.
with visits as (
    select customer_id, visit_seq, stage_index, started_at
    from core.stage_visits
),

first_entries as (
    select customer_id, stage_index, min(visit_seq) as first_seq, min(started_at) as first_at
    from visits
    group by customer_id, stage_index
),

next_entries as (
    select
        f.customer_id,
        f.stage_index,
        -- visit starts never decrease with visit_seq: the earliest later start is the first later entry
        cast(date_diff('microsecond', f.first_at, min(v.started_at)) as double) / 1000000 as seconds
    from first_entries as f
    join visits as v
        on v.customer_id = f.customer_id
       and v.stage_index = f.stage_index + 1
       and v.visit_seq > f.first_seq
    group by f.customer_id, f.stage_index, f.first_at
),

ranked as (
    select
        stage_index,
        seconds,
        row_number() over (partition by stage_index order by seconds) as seconds_rank,
        count(*) over (partition by stage_index) as n_customers
    from next_entries
),

summary as (
    select
        stage_index,
        count(*) as customers,
        min(case when seconds_rank * 100 >= n_customers * 50 then seconds end) as median_s,
        min(case when seconds_rank * 100 >= n_customers * 90 then seconds end) as p90_s
    from ranked
    group by stage_index
)

select
    a.stage as from_stage,
    b.stage as to_stage,
    coalesce(m.customers, 0) as customers,
    m.median_s,
    m.p90_s
from marts.stages as a
join marts.stages as b
    on b.stage_index = a.stage_index + 1
left join summary as m
    on m.stage_index = a.stage_index
order by a.stage_index
