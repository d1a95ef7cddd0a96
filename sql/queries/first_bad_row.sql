-- The first row of file $path that run $run_id quarantined (its line, reason and redacted detail): an error
-- that refuses the file (on_bad_row: fail) names it, so the row can be found without a quarantining run.
select line, reason, detail
from ingest.quarantine
where run_id = $run_id and source = $source and path = $path
order by line
limit 1
