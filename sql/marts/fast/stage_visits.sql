-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- DuckDB-only fast form of sql/core/stage_visits.sql (same rows and types), read from the temp
-- table visit_rows (sql/marts/fast/visit_rows.sql): the mapped touchpoints are ordered once per
-- customer (lag, row_number and the customer's count share one window), then only the visit starts
-- are ordered again; no GROUP BY over every touchpoint.
select customer_id, visit_seq, stage, stage_index, started_at, ended_at, n_events
from visit_rows
