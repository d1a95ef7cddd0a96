-- The sources whose events the warehouse holds but journey.yaml no longer declares ($sources): removed, or
-- renamed. Their events stay stored and are left out of the journeys; `journey sources reset NAME` deletes them.
select source, count(*) as events
from core.events
where not list_contains($sources, source)
group by source
order by source
