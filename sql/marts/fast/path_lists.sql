-- grain: one customer with a mapped touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table read by the fast path forms (path_nodes, path_frequencies, sankey_links) when a
-- path node is the stage: the customer's path as one list, its first max_steps stage visits (their stage
-- list, kept on the customer's last row of the temp table visit_rows) and then the terminal label,
-- 'converted' if the customer ever visited $goal_stage, else '(end)'. With touchpoint path nodes,
-- fast/touchpoint_path_lists.sql builds this table instead.
with names as (
    select
        list(stage order by stage_index) as stage_names,
        max(stage_index) filter (where stage = $goal_stage) as goal_index
    from marts.stages
)

select
    v.customer_id,
    list_append(
        list_transform(list_slice(v.stage_list, 1, $max_steps), lambda i: n.stage_names[i]),
        case when list_contains(v.stage_list, n.goal_index) then 'converted' else '(end)' end
    ) as nodes
from visit_rows as v
cross join names as n
where v.ended_at is null
