-- grain: one node of one customer's path; key: (customer_id, step)
-- A path node is a run of consecutive mapped touchpoints (at or before as_of) with one label: their
-- stage when $path_node = 'stage' (the nodes are then the customer's stage visits, core.stage_visits),
-- their touchpoint label source:event_name when $path_node = 'touchpoint' (a '>' in the event name written
-- '›', so that ' > ' only ever separates nodes in a path's text). Unmapped touchpoints are
-- skipped (they neither start nor split a node). The first max_steps nodes are kept, then one terminal
-- node: 'converted' if the customer ever reached the goal stage (anywhere, also beyond max_steps), else
-- '(end)'. Every customer with a mapped touchpoint has a path of at least two nodes.
with labelled as (
    select
        customer_id,
        event_seq,
        stage,
        case
            when $path_node = 'touchpoint' then source || ':' || replace(event_name, '>', '›')
            else stage
        end as label
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
),

flagged as (
    select
        customer_id, event_seq, stage, label,
        case
            when label = lag(label) over (partition by customer_id order by event_seq) then 0
            else 1
        end as is_node_start
    from labelled
),

numbered as (
    select
        customer_id, stage, label, is_node_start,
        cast(sum(is_node_start) over (
            partition by customer_id order by event_seq
            rows between unbounded preceding and current row
        ) as bigint) as node_seq
    from flagged
),

per_customer as (
    select
        customer_id,
        max(node_seq) as n_nodes,
        max(case when stage = $goal_stage then 1 else 0 end) as is_converted
    from numbered
    group by customer_id
)

select customer_id, node_seq as step, label, false as is_terminal
from numbered
where is_node_start = 1
  and node_seq <= $max_steps

union all

select
    customer_id,
    least(n_nodes, $max_steps) + 1 as step,
    case when is_converted = 1 then 'converted' else '(end)' end as label,
    true as is_terminal
from per_customer
