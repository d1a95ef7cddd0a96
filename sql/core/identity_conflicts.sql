-- grain: one super-node: an identifier linked to more than $max_links identifiers of one other type;
-- key: (id_type, id_value, linked_type). Such identifiers are not used for linking (SEMANTICS.md).
with degrees as (
    select node_a, type_b as linked_type, count(*) as degree
    from identity_pairs
    group by node_a, type_b
    having count(*) > $max_links
)

select n.id_type, n.id_value, d.linked_type, d.degree, n.node_id
from degrees as d
join identity_nodes as n on n.node_id = d.node_a
