-- grain: one identifier seen on an event up to as_of, of a source journey.yaml declares ($sources); key: node_id
-- (also unique: (id_type, id_value)). Dense integer ids make every later step cheap; the label starts as the node.
with seen as (
    select distinct id_type, id_value
    from core.event_identifiers
    where occurred_at <= $as_of
      and list_contains($sources, source)
)

select
    row_number() over (order by id_type, id_value) as node_id,
    id_type,
    id_value
from seen
