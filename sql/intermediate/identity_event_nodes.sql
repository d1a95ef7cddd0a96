-- grain: one identifier (as a node id) on one event that carries two or more identifiers, up to as_of;
-- key: (event_rank, node_id). Events with a single identifier link nothing and are left out.
-- event_rank numbers these events in the total order, so "the first event of a link" is a min().
with multi as (
    select source, event_id
    from core.event_identifiers
    where occurred_at <= $as_of
      and list_contains($sources, source)
    group by source, event_id
    having count(*) > 1
),

ranked as (
    select
        m.source,
        m.event_id,
        row_number() over (order by e.occurred_at, e.source_priority, e.source, e.event_id) as event_rank
    from multi as m
    join core.events as e using (source, event_id)
)

select r.event_rank, r.source, r.event_id, n.node_id, n.id_type
from ranked as r
join core.event_identifiers as i using (source, event_id)
join identity_nodes as n using (id_type, id_value)
