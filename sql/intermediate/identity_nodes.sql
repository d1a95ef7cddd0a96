-- grain: one identifier seen on an event up to as_of; key: node_id (also unique: (id_type, id_value))
-- Dense integer ids make every later step cheap; the label starts as the node itself.
with seen as (
    select distinct id_type, id_value
    from core.event_identifiers
    where occurred_at <= $as_of
)

select
    row_number() over (order by id_type, id_value) as node_id,
    id_type,
    id_value
from seen
