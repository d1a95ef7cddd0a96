-- grain: one event of one customer up to as_of, of a source journey.yaml declares ($sources: the events of a
-- source removed or renamed stay stored, and out of the journeys); key: (customer_id, event_seq)
-- Each event belongs to the customer of its identifiers (a super-node identifier only when the
-- event has nothing else) and is numbered in the total order (occurred_at, source priority, source, event_id).
with events as (
    select *, coalesce(json_extract_string(properties, $property_paths)::varchar, '') as property_key
    from core.events
    where occurred_at <= $as_of
      and list_contains($sources, source)
),

conflicted as (
    select distinct id_type, id_value from core.identity_conflicts
),

event_customers as (
    -- all usable identifiers of an event share one customer; super-nodes only when nothing else is there
    select
        i.source,
        i.event_id,
        coalesce(min(m.customer_id) filter (where c.id_type is null), min(m.customer_id)) as customer_id
    from core.event_identifiers as i
    join core.identity_map as m using (id_type, id_value)
    left join conflicted as c using (id_type, id_value)
    where i.occurred_at <= $as_of
      and list_contains($sources, i.source)
    group by i.source, i.event_id
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
    e.properties,
    s.stage,
    s.stage_index,
    s.stage_source,
    s.rule_id
from events as e
join event_customers as ec using (source, event_id)
join event_stages as s
    on s.source = e.source and s.source_kind = e.source_kind and s.event_name = e.event_name
    and s.property_key = e.property_key
