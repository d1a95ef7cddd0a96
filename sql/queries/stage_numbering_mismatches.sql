-- The stage numbers core.touchpoints uses that name another stage than the configured stages (marts.stages)
-- give them: the journeys were built with other stages, so the marts would misname every stage.
select distinct t.stage_index, t.stage, s.stage as expected
from core.touchpoints as t
left join marts.stages as s on s.stage_index = t.stage_index
where t.stage_index is not null and (s.stage is null or s.stage <> t.stage)
order by t.stage_index
