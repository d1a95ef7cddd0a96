-- `journey sources check`: the first mapped rows of the scratch load, identifiers shortened.
select
    e.event_id,
    e.occurred_at,
    e.event_name,
    e.channel,
    (select string_agg(i.id_type || '=' || left(i.id_value, 12), ' ' order by i.id_type)
     from core.event_identifiers as i
     where i.source = e.source and i.event_id = e.event_id) as identifiers,
    e.properties::varchar as properties
from core.events as e
where e.run_id = $run_id
order by e.occurred_at, e.event_id
limit $preview_rows
