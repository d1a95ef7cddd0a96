-- grain: one event of one customer up to as_of; key: (customer_id, event_seq)
-- Each event belongs to the customer of its identifiers (a super-node identifier only when the
-- event has nothing else) and is numbered in the total order (occurred_at, source priority, source, event_id).
with events as (
    select *, json_extract_string(properties, $property_paths) as property_values
    from core.events
    where occurred_at <= $as_of
),

conflicted as (
    select distinct id_type, id_value from core.identity_conflicts
),

event_customers as (
    select
        i.source,
        i.event_id,
        arg_min(m.customer_id, (c.id_type is not null, list_position($id_types, i.id_type), i.id_value)) as customer_id
    from core.event_identifiers as i
    join core.identity_map as m using (id_type, id_value)
    left join conflicted as c using (id_type, id_value)
    group by all
)

select
    ec.customer_id,
    row_number() over (
        partition by ec.customer_id
        order by e.occurred_at, e.source_priority, e.source, e.event_id
    ) as event_seq,
    e.source,
    e.source_kind,
    e.event_id,
    e.event_name,
    e.occurred_at,
    e.channel,
    s.stage,
    s.stage_index,
    s.stage_source,
    s.rule_id
from events as e
join event_customers as ec using (source, event_id)
join event_stages as s
    on s.source = e.source and s.source_kind = e.source_kind and s.event_name = e.event_name
    and s.property_values is not distinct from e.property_values
