-- grain: one identifier seen on an event up to as_of; key: node_id (also unique: (id_type, id_value))
-- Dense integer ids make the component search cheap; label starts as the node itself.
with seen as (
    select distinct i.id_type, i.id_value
    from core.event_identifiers as i
    join core.events as e using (source, event_id)
    where e.occurred_at <= $as_of
)

select
    row_number() over (order by id_type, id_value) as node_id,
    id_type,
    id_value,
    row_number() over (order by id_type, id_value) as label
from seen
