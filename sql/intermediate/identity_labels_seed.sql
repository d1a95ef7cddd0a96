-- grain: one identifier node; the labels before the first round: every node its own label.
select node_id, node_id as label
from identity_nodes
