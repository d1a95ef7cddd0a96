-- `journey stages suggest`: the last run's proposals, grouped by the stage proposed (in stage order), unconfident
-- ones last.
select source, event_name, proposed_stage, share, occurrences, n_with_stage, customers, is_used
from marts.stage_inference
order by proposed_stage_index nulls last, source, event_name
