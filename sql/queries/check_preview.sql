-- `journey sources check`: the first mapped rows of the scratch load. Values are shortened, as a property can
-- hold megabytes that would all go to the terminal: identifiers to 12 characters, other text to 40, `…`
-- marking each cut, each property value on its own so that every key stays in view.
with preview as (
    select *
    from core.events
    where run_id = $run_id
    order by occurred_at, event_id
    limit $preview_rows
)

select
    case when length(e.event_id) > 40 then left(e.event_id, 39) || '…' else e.event_id end as event_id,
    e.occurred_at,
    case when length(e.event_name) > 40 then left(e.event_name, 39) || '…' else e.event_name end as event_name,
    case when length(e.channel) > 40 then left(e.channel, 39) || '…' else e.channel end as channel,
    (select string_agg(i.id_type || '=' || case when length(i.id_value) > 12 then left(i.id_value, 11) || '…'
                                                  else i.id_value end, ' ' order by i.id_type)
     from core.event_identifiers as i
     where i.source = e.source and i.event_id = e.event_id) as identifiers,
    -- each property value (text or null) shortened on its own, rebuilt as JSON in the order stored
    coalesce((
        select '{' || string_agg(to_json(p.key) || ':' || coalesce(to_json(
            case when length(p.value ->> '$') > 40 then left(p.value ->> '$', 39) || '…' else p.value ->> '$' end
        ), 'null'), ',' order by p.id) || '}'
        from json_each(e.properties) as p
    ), '{}') as properties
from preview as e
order by e.occurred_at, e.event_id
