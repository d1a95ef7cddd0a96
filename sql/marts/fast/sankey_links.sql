-- grain: one Sankey link from node (step, source_label) to node (step + 1, target_label);
-- key: (step, source_label, target_label)
-- DuckDB-only fast form of sql/marts/sankey_links.sql (same rows and types), read from the temp
-- table visit_rows: a path node's next label is the next visit's stage, or the terminal label
-- after the customer's last kept visit; no window over the path nodes.
with nodes as (
    select
        visit_seq as step,
        stage as label,
        case
            when visit_seq < least(n_visits, $max_steps) then next_stage
            when is_converted then 'converted'
            else '(end)'
        end as next_label
    from visit_rows
    where visit_seq <= $max_steps
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
