-- grain: one usable link as a pair of node ids, both directions; key: (node_a, node_b)
select a.node_id as node_a, b.node_id as node_b
from core.identity_edges as e
join identity_nodes as a on a.id_type = e.id_type_a and a.id_value = e.id_value_a
join identity_nodes as b on b.id_type = e.id_type_b and b.id_value = e.id_value_b
union all
select b.node_id, a.node_id
from core.identity_edges as e
join identity_nodes as a on a.id_type = e.id_type_a and a.id_value = e.id_value_a
join identity_nodes as b on b.id_type = e.id_type_b and b.id_value = e.id_value_b
