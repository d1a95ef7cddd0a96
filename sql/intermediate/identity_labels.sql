-- grain: one node; key: node_id. One round of min-label propagation followed by pointer jumping:
-- each node takes the smallest label among itself and its neighbours, then the label of that label.
-- Repeated until nothing changes, this converges in O(log diameter)-ish rounds, never one query per hop.
with spread as (
    select l.node_id, least(l.label, coalesce(min(n.label), l.label)) as label
    from identity_labels_prev as l
    left join identity_links as k on k.node_a = l.node_id
    left join identity_labels_prev as n on n.node_id = k.node_b
    group by l.node_id, l.label
)

select s.node_id, least(s.label, j.label) as label
from spread as s
join spread as j on j.node_id = s.label
