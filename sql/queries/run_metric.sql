-- One metric a run recorded in the run history (e.g. its funnel_definition); no row when it recorded none.
select value
from marts.run_history
where run_id = $run_id and metric = $metric
