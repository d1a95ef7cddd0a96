-- grain: one path label at one Sankey step; key: (step, label)
-- Maps each label to its Sankey node: the top nodes_per_step labels of a step by customers
-- (ties: label text) keep their name, all others become 'Other' at that step. Terminal labels
-- ('converted', '(end)') are ranked like any other label.
with counted as (
    select
        step,
        label,
        count(*) as customers,
        cast(sum(case when is_terminal then 1 else 0 end) as bigint) as n_ended
    from marts.path_nodes
    group by step, label
),

ranked as (
    select
        step, label, customers, n_ended,
        row_number() over (partition by step order by customers desc, label) as label_rank
    from counted
)

select
    step,
    label,
    case when label_rank <= $nodes_per_step then label else 'Other' end as node_label,
    label_rank,
    customers,
    n_ended
from ranked
order by step, label_rank
