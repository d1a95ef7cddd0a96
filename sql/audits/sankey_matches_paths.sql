-- grain: one Sankey total that differs from the path table; zero rows = pass
-- Links leaving step 1, customers at step-1 nodes, and customers ending at any node each equal
-- the total of path_frequencies.
with paths as (
    select coalesce(sum(customers), 0) as customers
    from marts.path_frequencies
),

totals as (
    select 'links leaving step 1' as total,
        (select coalesce(sum(customers), 0) from marts.sankey_links where step = 1) as customers
    union all
    select 'customers at step-1 nodes',
        (select coalesce(sum(customers), 0) from marts.sankey_nodes where step = 1)
    union all
    select 'customers ending at a node',
        (select coalesce(sum(n_ended), 0) from marts.sankey_nodes)
)

select t.total, t.customers as sankey_customers, p.customers as path_customers
from totals as t
cross join paths as p
where t.customers <> p.customers
