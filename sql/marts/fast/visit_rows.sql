-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- DuckDB-only temp table behind core.stage_visits and the visit-based marts (time_in_stage,
-- stage_to_stage, and through the temp table path_lists the paths and Sankey): the rows of
-- core.stage_visits plus what those marts would otherwise get by re-sorting or re-grouping the visits
-- per customer: on the customer's last visit (ended_at null) the customer's visit stage indexes and
-- start times in visit order (null on the other visits); and whether the visit is the customer's first
-- of its stage (time_in_stage counts customers per stage by it).
-- Reads each customer's mapped touchpoints in event order from the temp table customer_lists; the
-- visits are the runs in the stage list, found by list functions, and become rows by one unnest.
with runs as (
    -- the positions where a visit starts: the first touchpoint, and every change of stage
    select
        customer_id, times, len(stages) as n_mapped,
        list_filter(range(1, len(stages) + 1), lambda i: i = 1 or stages[i] <> stages[i - 1]) as starts,
        stages
    from customer_lists
),

visit_lists as (
    select
        customer_id,
        n_mapped,
        starts,
        list_select(stages, starts) as stage_list,
        list_select(times, starts) as start_list
    from runs
),

visits as (
    select
        customer_id,
        generate_subscripts(starts, 1) as visit_seq,
        unnest(starts) as first_position,
        n_mapped,
        starts,
        stage_list,
        start_list
    from visit_lists
)

select
    v.customer_id,
    cast(v.visit_seq as bigint) as visit_seq,
    n.names[v.stage_list[v.visit_seq]] as stage,
    v.stage_list[v.visit_seq] as stage_index,
    v.start_list[v.visit_seq] as started_at,
    v.start_list[v.visit_seq + 1] as ended_at,
    cast(coalesce(v.starts[v.visit_seq + 1], v.n_mapped + 1) - v.first_position as bigint) as n_events,
    list_position(v.stage_list, v.stage_list[v.visit_seq]) = v.visit_seq as is_first_of_stage,
    case when v.visit_seq = len(v.starts) then v.stage_list end as stage_list,
    case when v.visit_seq = len(v.starts) then v.start_list end as start_list
from visits as v
cross join (
    select list(stage order by stage_index) as names
    from marts.stages
) as n
