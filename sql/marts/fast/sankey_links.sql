-- grain: one Sankey link from node (step, source_label) to node (step + 1, target_label);
-- key: (step, source_label, target_label)
-- DuckDB-only fast form of sql/marts/sankey_links.sql (same rows and types), read from the temp
-- table path_lists: a node's next label is the next element of the customer's node list (unnest pads
-- the shorter list with null, so the terminal node has none); no window over the path nodes.
with nodes as (
    select
        cast(generate_subscripts(nodes, 1) as bigint) as step,
        unnest(nodes) as label,
        unnest(list_slice(nodes, 2, len(nodes))) as next_label
    from path_lists
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
group by n.step, a.node_label, b.node_label
order by n.step, a.node_label, b.node_label
