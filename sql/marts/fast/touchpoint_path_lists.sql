-- grain: one customer with a mapped touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table with the columns of fast/path_lists.sql, built instead of it when a path node is
-- the touchpoint label source:event_name ($path_node = 'touchpoint'; the label as in sql/marts/path_nodes.sql,
-- a '>' written '›'): the customer's first max_steps runs of one label among its mapped touchpoints, then
-- the terminal label. One hash aggregate lists each customer's labels as small integer codes (a list of
-- strings costs about twice as much, measured) and one permutation puts them in event order; the runs are
-- the positions where the code changes.
with labels as (
    -- one code per label text: two event names that differ only in '>' against '›' are one label
    select source, event_name, label, dense_rank() over (order by label) as code
    from (
        select distinct source, event_name, source || ':' || replace(event_name, '>', '›') as label
        from core.touchpoints
        where stage_index is not null
          and occurred_at <= $as_of
    ) as types
),

names as (
    select list(label order by code) as label_names
    from (select distinct code, label from labels) as distinct_labels
),

grouped as (
    select
        t.customer_id,
        list_grade_up(list(t.event_seq)) as event_order,
        list(l.code) as code0,
        bool_or(t.stage_index = g.goal_index) as is_converted
    from core.touchpoints as t
    join labels as l on l.source = t.source and l.event_name = t.event_name
    cross join (select max(stage_index) filter (where stage = $goal_stage) as goal_index from marts.stages) as g
    where t.stage_index is not null
      and t.occurred_at <= $as_of
    group by t.customer_id
),

runs as (
    select customer_id, is_converted, codes,
        list_filter(range(1, len(codes) + 1), lambda i: i = 1 or codes[i] <> codes[i - 1]) as starts
    from (select customer_id, is_converted, list_select(code0, event_order) as codes from grouped) as ordered
)

select
    r.customer_id,
    list_append(
        list_transform(list_slice(list_select(r.codes, r.starts), 1, $max_steps), lambda c: n.label_names[c]),
        case when r.is_converted then 'converted' else '(end)' end
    ) as nodes
from runs as r
cross join names as n
