-- The loaded events carrying identifier ($id_type, $id_value) as stored: how many of the sources journey.yaml
-- declares ($sources), the first one's time, and how many of sources it no longer declares (left out of the
-- journeys).
select
    count(*) filter (where list_contains($sources, source)) as events,
    min(occurred_at) filter (where list_contains($sources, source)) as first_at,
    count(*) filter (where not list_contains($sources, source)) as undeclared
from core.event_identifiers
where id_type = $id_type and id_value = $id_value
