-- grain: one node of one customer's path; key: (customer_id, step)
-- DuckDB-only fast form of sql/marts/path_nodes.sql (same rows and types), read from the temp
-- table visit_rows: the terminal node comes from the customer's last visit (n_visits and
-- is_converted are already there), no GROUP BY over the visits.
select customer_id, visit_seq as step, stage as label, false as is_terminal
from visit_rows
where visit_seq <= $max_steps

union all

select
    customer_id,
    least(n_visits, $max_steps) + 1 as step,
    case when is_converted then 'converted' else '(end)' end as label,
    true as is_terminal
from visit_rows
where ended_at is null
