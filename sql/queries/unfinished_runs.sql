-- The runs just before run $run_id that ended without publishing marts (stopped, or a source or an audit
-- failed), with the files and rows each loaded: no run counted their files, so run $run_id counts them as its
-- own. They are the runs since the last run that published before it (by appending to marts.run_history).
-- Run ids start with their UTC start time, so they sort in the order the runs started.
select run_id, count(*) as files, sum(rows_loaded) as rows_loaded
from ingest.manifest
where run_id < $run_id
  and run_id > (select coalesce(max(run_id), '') from marts.run_history where run_id < $run_id)
group by run_id
order by run_id
