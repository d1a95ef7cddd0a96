-- The run whose identities, journeys and marts the warehouse holds: the last one recorded (run history is
-- appended in the same transaction that rebuilds them). Its as_of is where the journeys stop.
select run_id, as_of
from marts.run_history
order by run_at desc, run_id desc
limit 1
