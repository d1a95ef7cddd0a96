-- grain: one link used for stitching (stored once); key: (id_type_a, id_value_a, id_type_b, id_value_b)
-- Every link between two identifiers that are not super-nodes, with the first event that made it.
with first_events as (
    select distinct event_rank, source, event_id from identity_event_nodes
)

select
    a.id_type as id_type_a,
    a.id_value as id_value_a,
    b.id_type as id_type_b,
    b.id_value as id_value_b,
    f.source as first_source,
    f.event_id as first_event_id,
    l.n_events
from identity_links as l
join identity_nodes as a on a.node_id = l.node_a
join identity_nodes as b on b.node_id = l.node_b
join first_events as f on f.event_rank = l.first_event_rank
where l.node_a < l.node_b
