-- Applies the confident proposals of marts.stage_inference to core.touchpoints: unmapped events of
-- those (source, event_name) take the proposed stage with stage_source = 'inferred'.
update core.touchpoints as t
set stage = i.proposed_stage, stage_index = i.proposed_stage_index, stage_source = 'inferred'
from marts.stage_inference as i
where t.stage = 'unmapped' and i.is_used and t.source = i.source and t.event_name = i.event_name;
