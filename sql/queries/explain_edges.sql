-- The links that merged one customer's identifiers, each with the first event that made it.
select e.id_type_a, e.id_value_a, e.id_type_b, e.id_value_b, e.first_source, e.first_event_id,
       ev.occurred_at as first_seen_at, ev.event_name as first_event_name, e.n_events
from core.identity_edges as e
join core.identity_map as m on m.id_type = e.id_type_a and m.id_value = e.id_value_a
left join core.events as ev on ev.source = e.first_source and ev.event_id = e.first_event_id
where m.customer_id = $customer_id
order by first_seen_at, e.first_event_id, e.id_type_a, e.id_type_b
