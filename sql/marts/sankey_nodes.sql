-- grain: one Sankey node = (step, node label); key: (step, node_label)
-- customers = customers whose path passes through the node; n_ended = those whose path ends
-- there (terminal labels). Balance: inflow = customers (step > 1) = outflow + n_ended.
select
    step,
    node_label,
    cast(sum(customers) as bigint) as customers,
    cast(sum(n_ended) as bigint) as n_ended
from marts.sankey_labels
group by step, node_label
order by step, node_label
