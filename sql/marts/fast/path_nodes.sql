-- grain: one node of one customer's path; key: (customer_id, step)
-- DuckDB-only fast form of sql/marts/path_nodes.sql (same rows and types), read from the temp table
-- path_lists: each customer's path as one list (kept nodes, then the terminal one), unnested.
select
    customer_id,
    cast(generate_subscripts(nodes, 1) as bigint) as step,
    unnest(nodes) as label,
    generate_subscripts(nodes, 1) = len(nodes) as is_terminal
from path_lists
