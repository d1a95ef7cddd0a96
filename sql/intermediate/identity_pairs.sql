-- grain: one pair of distinct identifiers seen together on an event up to as_of; key: (node_a, node_b)
-- Both directions are present; first_event_rank names the event that linked them first.
select
    a.node_id as node_a,
    b.node_id as node_b,
    b.id_type as type_b,
    min(a.event_rank) as first_event_rank,
    count(*) as n_events
from identity_event_nodes as a
join identity_event_nodes as b on a.event_rank = b.event_rank and a.node_id <> b.node_id
group by a.node_id, b.node_id, b.id_type
