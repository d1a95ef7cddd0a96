-- grain: one exact path among the top paths_top_n, plus one 'other paths' row; key: rank
-- DuckDB-only fast form of sql/marts/path_frequencies.sql (same rows and types), read from the
-- temp table path_lists: each customer's path text is its node list joined; no GROUP BY per customer.
with paths as (
    select array_to_string(nodes, ' > ') as path
    from path_lists
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
