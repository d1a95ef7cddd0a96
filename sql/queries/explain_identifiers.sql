-- One customer's identifiers, with how many loaded events of the sources journey.yaml declares ($sources) carry
-- each: up to the last run's as_of (all of them when no run is recorded) and after it (in no journey yet).
-- Events loaded since that run (by a run whose source failed) count too, though no journey holds them yet.
select m.id_type, m.id_value,
       count(i.event_id) filter (where $as_of is null or i.occurred_at <= $as_of) as n_events,
       count(i.event_id) filter (where i.occurred_at > $as_of) as n_later,
       exists (select 1 from core.identity_conflicts c where c.id_type = m.id_type and c.id_value = m.id_value) as is_super_node
from core.identity_map as m
left join core.event_identifiers as i
    on i.id_type = m.id_type and i.id_value = m.id_value and list_contains($sources, i.source)
where m.customer_id = $customer_id
group by all
order by m.id_type, m.id_value
