-- grain: one pair of distinct identifiers seen together on an event up to as_of; key: (type_a, value_a, type_b, value_b)
-- Both directions are present. `first_*` name the event that created the link first (for `explain`).
with identifiers as (
    select i.source, i.event_id, i.id_type, i.id_value, e.occurred_at, e.source_priority
    from core.event_identifiers as i
    join core.events as e using (source, event_id)
    where e.occurred_at <= $as_of
)

select
    a.id_type as type_a,
    a.id_value as value_a,
    b.id_type as type_b,
    b.id_value as value_b,
    arg_min(a.source, (a.occurred_at, a.source_priority, a.source, a.event_id)) as first_source,
    arg_min(a.event_id, (a.occurred_at, a.source_priority, a.source, a.event_id)) as first_event_id,
    count(*) as n_events
from identifiers as a
join identifiers as b
    on a.source = b.source and a.event_id = b.event_id
    and (a.id_type, a.id_value) <> (b.id_type, b.id_value)
group by all
