-- grain: one node of one customer's path; key: (customer_id, step)
-- A path is the customer's stage visits in order (mapped touchpoints, consecutive repeats
-- collapsed), the first max_steps kept, then one terminal node: 'converted' if the customer ever
-- reached the goal stage (anywhere, also beyond max_steps), else '(end)'. Every customer with a
-- mapped touchpoint has a path of at least two nodes.
with visits as (
    select customer_id, visit_seq, stage
    from core.stage_visits
),

per_customer as (
    select
        customer_id,
        count(*) as n_visits,
        max(case when stage = $goal_stage then 1 else 0 end) as is_converted
    from visits
    group by customer_id
)

select customer_id, visit_seq as step, stage as label, false as is_terminal
from visits
where visit_seq <= $max_steps

union all

select
    customer_id,
    least(n_visits, $max_steps) + 1 as step,
    case when is_converted = 1 then 'converted' else '(end)' end as label,
    true as is_terminal
from per_customer
