-- grain: one Sankey link from node (step, source_label) to node (step + 1, target_label);
-- key: (step, source_label, target_label)
-- customers = customers whose path goes from the source node to the target node, including the
-- link into the terminal node. Links leaving step 1 sum to all customers with a path.
with nodes as (
    select
        customer_id,
        step,
        label,
        lead(label) over (partition by customer_id order by step) as next_label
    from marts.path_nodes
)

select
    n.step,
    a.node_label as source_label,
    b.node_label as target_label,
    count(*) as customers
from nodes as n
join marts.sankey_labels as a
    on a.step = n.step and a.label = n.label
join marts.sankey_labels as b
    on b.step = n.step + 1 and b.label = n.next_label
where n.next_label is not null
group by n.step, a.node_label, b.node_label
order by n.step, a.node_label, b.node_label
