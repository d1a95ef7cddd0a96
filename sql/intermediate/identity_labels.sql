-- grain: one node; key: node_id. One round of connected-components search (Shiloach–Vishkin style):
-- spread: each node takes the smallest label among itself and its neighbours;
-- hook:   each current label (a tree root) takes the smallest label any of its members reached;
-- jump:   each node takes the label of its label.
-- Repeated until nothing changes; the rounds grow with the log of the diameter, never one query per hop.
with spread as (
    select l.node_id, l.label as old_label, least(l.label, coalesce(min(n.label), l.label)) as label
    from identity_labels_prev as l
    left join identity_links as k on k.node_a = l.node_id
    left join identity_labels_prev as n on n.node_id = k.node_b
    group by l.node_id, l.label
),

hooked as (
    select old_label as node_id, min(label) as label
    from spread
    group by old_label
),

merged as (
    select s.node_id, least(s.label, coalesce(h.label, s.label)) as label
    from spread as s
    left join hooked as h using (node_id)
)

select m.node_id, least(m.label, j.label) as label
from merged as m
join merged as j on j.node_id = m.label
