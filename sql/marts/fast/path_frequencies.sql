-- grain: one exact path among the top paths_top_n, plus one 'other paths' row; key: rank
-- DuckDB-only fast form of sql/marts/path_frequencies.sql (same rows and types), read from the
-- temp table visit_rows: each customer's path text is built from the stage list on the customer's
-- last visit (first max_steps stages, then the terminal label); no GROUP BY per customer.
with names as (
    select list(stage order by stage_index) as stage_names
    from marts.stages
),

paths as (
    select
        array_to_string(
            list_append(
                list_transform(list_slice(v.stage_list, 1, $max_steps), lambda i: n.stage_names[i]),
                case when v.is_converted then 'converted' else '(end)' end
            ),
            ' > '
        ) as path
    from visit_rows as v
    cross join names as n
    where v.ended_at is null
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
