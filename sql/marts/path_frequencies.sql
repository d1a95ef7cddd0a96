-- grain: one exact path among the top paths_top_n, plus one 'other paths' row; key: rank
-- Paths are ranked by customers (ties: path text); the 'other paths' row (rank paths_top_n + 1)
-- sums the rest and is present only when at least one customer is in it. Rows sum to all
-- customers with a mapped touchpoint; share = customers / that total.
with paths as (
    select customer_id, string_agg(label, ' > ' order by step) as path
    from marts.path_nodes
    group by customer_id
),

counted as (
    select path, count(*) as customers
    from paths
    group by path
),

ranked as (
    select path, customers, row_number() over (order by customers desc, path) as path_rank
    from counted
),

total as (
    select sum(customers) as all_customers
    from counted
),

rows_out as (
    select path_rank, path, customers
    from ranked
    where path_rank <= $paths_top_n
    union all
    select min(path_rank) as path_rank, 'other paths' as path, sum(customers) as customers
    from ranked
    where path_rank > $paths_top_n
    having count(*) > 0
)

select
    cast(r.path_rank as bigint) as rank,
    r.path,
    cast(r.customers as bigint) as customers,
    cast(r.customers as double) / t.all_customers as share
from rows_out as r
cross join total as t
order by r.path_rank
