-- grain: one usable link as a pair of node ids, both directions; key: (node_a, node_b)
-- Links through a super-node are not used.
select p.node_a, p.node_b, p.first_event_rank, p.n_events
from identity_pairs as p
anti join core.identity_conflicts as c1 on c1.node_id = p.node_a
anti join core.identity_conflicts as c2 on c2.node_id = p.node_b
