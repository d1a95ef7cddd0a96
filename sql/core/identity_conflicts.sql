-- grain: one super-node: an identifier linked to more than $max_links identifiers of one other type;
-- key: (id_type, id_value, linked_type). Such identifiers are not used for linking (SEMANTICS.md).
select
    type_a as id_type,
    value_a as id_value,
    type_b as linked_type,
    count(*) as degree
from identity_pairs
group by all
having count(*) > $max_links
