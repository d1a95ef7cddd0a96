-- One customer's identifiers, with how many events carry each.
select m.id_type, m.id_value, count(i.event_id) as n_events,
       exists (select 1 from core.identity_conflicts c where c.id_type = m.id_type and c.id_value = m.id_value) as is_super_node
from core.identity_map as m
left join core.event_identifiers as i using (id_type, id_value)
where m.customer_id = $customer_id
group by all
order by m.id_type, m.id_value
