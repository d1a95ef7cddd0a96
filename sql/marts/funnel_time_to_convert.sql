-- grain: one time bucket of one funnel step (steps 2..n); key: (step, bucket_index)
-- customers = cohort customers whose chosen attempt went from step k-1 to step k in
-- [lower_s, upper_s) seconds (upper_s null = no upper bound). Buckets of a step sum to reached(k).
with buckets as (
    select bucket_index, bucket, lower_s, upper_s
    from (
        values
            (1, '< 1 min', 0.0, 60.0),
            (2, '1-10 min', 60.0, 600.0),
            (3, '10-60 min', 600.0, 3600.0),
            (4, '1-6 h', 3600.0, 21600.0),
            (5, '6-24 h', 21600.0, 86400.0),
            (6, '1-3 d', 86400.0, 259200.0),
            (7, '3-7 d', 259200.0, 604800.0),
            (8, '7-14 d', 604800.0, 1209600.0),
            (9, '14-30 d', 1209600.0, 2592000.0),
            (10, '>= 30 d', 2592000.0, null)
    ) as b (bucket_index, bucket, lower_s, upper_s)
),

times as (
    select step, s_from_previous
    from marts.funnel_customer_steps
    where step > 1
),

grid as (
    select
        s.step as step, s.stage,
        b.bucket_index, b.bucket, cast(b.lower_s as double) as lower_s, cast(b.upper_s as double) as upper_s
    from marts.funnel_stages as s
    cross join buckets as b
    where s.step > 1
)

select
    g.step,
    g.stage,
    g.bucket_index,
    g.bucket,
    g.lower_s,
    g.upper_s,
    count(t.step) as customers
from grid as g
left join times as t
    on t.step = g.step
   and t.s_from_previous >= g.lower_s
   and (g.upper_s is null or t.s_from_previous < g.upper_s)
group by g.step, g.stage, g.bucket_index, g.bucket, g.lower_s, g.upper_s
order by g.step, g.bucket_index
