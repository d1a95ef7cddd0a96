-- grain: one identifier; key: (id_type, id_value)
-- A customer is a connected component; its id is a hash of the component's smallest identifier of
-- the highest-priority type ($id_types lists types, highest priority first), so unrelated data
-- never renumbers customers.
with labelled as (
    select n.id_type, n.id_value, l.label, list_position($id_types, n.id_type) as priority
    from identity_nodes as n
    join identity_labels as l using (node_id)
),

named as (
    -- the smallest identifier of the component's highest-priority type
    select label, id_type || ':' || min(id_value) as anchor
    from labelled
    group by label, id_type, priority
    qualify priority = min(priority) over (partition by label)
)

select
    l.id_type,
    l.id_value,
    'cu_' || left(sha256(n.anchor), 16) as customer_id
from labelled as l
join named as n using (label)
