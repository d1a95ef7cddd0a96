-- The loaded events carrying identifier ($id_type, $id_value) as stored: how many, and the first one's time.
select count(*), min(occurred_at)
from core.event_identifiers
where id_type = $id_type and id_value = $id_value
