-- grain: one link used for stitching (stored once, a < b); key: (id_type_a, id_value_a, id_type_b, id_value_b)
-- Every link between two identifiers that are not super-nodes, with the first event that made it.
with usable as (
    select p.*
    from identity_pairs as p
    anti join (select distinct id_type, id_value from core.identity_conflicts) as c
        on (p.type_a = c.id_type and p.value_a = c.id_value)
    anti join (select distinct id_type, id_value from core.identity_conflicts) as c2
        on (p.type_b = c2.id_type and p.value_b = c2.id_value)
)

select
    type_a as id_type_a,
    value_a as id_value_a,
    type_b as id_type_b,
    value_b as id_value_b,
    first_source,
    first_event_id,
    n_events
from usable
where (type_a, value_a) < (type_b, value_b)
