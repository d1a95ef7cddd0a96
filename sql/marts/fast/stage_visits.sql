-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- DuckDB-only fast form of sql/core/stage_visits.sql (same rows and types), read from the temp
-- table visit_rows (sql/marts/fast/visit_rows.sql): one list of mapped touchpoints per customer,
-- put in event order once; the visits are the runs of one stage in it. No window function.
select customer_id, visit_seq, stage, stage_index, started_at, ended_at, n_events
from visit_rows
