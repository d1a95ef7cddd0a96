-- Whether a run has built the customers and their journeys (`journey explain`, `journey stages suggest`).
select count(*) = 2
from duckdb_tables()
where schema_name = 'core' and table_name in ('identity_map', 'touchpoints')
