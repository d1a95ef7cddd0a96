-- grain: one Sankey node (or the step-1 total) out of balance; zero rows = pass
-- Every node: inflow = customers (steps after the first) and outflow + n_ended = customers.
-- The customers at step 1 equal the customers with a mapped touchpoint.
with inflow as (
    select step + 1 as step, target_label as node_label, sum(customers) as customers
    from marts.sankey_links
    group by step, target_label
),

outflow as (
    select step, source_label as node_label, sum(customers) as customers
    from marts.sankey_links
    group by step, source_label
),

node_checks as (
    select
        n.step,
        n.node_label,
        n.customers,
        coalesce(i.customers, 0) as inflow,
        coalesce(o.customers, 0) as outflow,
        n.n_ended
    from marts.sankey_nodes as n
    left join inflow as i
        on i.step = n.step and i.node_label = n.node_label
    left join outflow as o
        on o.step = n.step and o.node_label = n.node_label
),

orphan_links as (
    select l.step, l.source_label as node_label
    from marts.sankey_links as l
    left join marts.sankey_nodes as n
        on n.step = l.step and n.node_label = l.source_label
    where n.step is null
    union all
    select l.step + 1, l.target_label
    from marts.sankey_links as l
    left join marts.sankey_nodes as n
        on n.step = l.step + 1 and n.node_label = l.target_label
    where n.step is null
),

step_one as (
    select
        (select coalesce(sum(customers), 0) from marts.sankey_nodes where step = 1) as at_step_one,
        (select count(distinct customer_id) from core.stage_visits) as all_customers
)

select 'node out of balance' as problem, step, node_label,
    customers, inflow, outflow, n_ended
from node_checks
where (step > 1 and inflow <> customers)
   or outflow + n_ended <> customers
union all
select 'link to a missing node', step, node_label, null, null, null, null
from orphan_links
union all
select 'step-1 total differs from customers', 1, null, at_step_one, null, null, all_customers
from step_one
where at_step_one <> all_customers
