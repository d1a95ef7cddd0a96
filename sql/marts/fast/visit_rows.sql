-- grain: one visit = a run of consecutive mapped touchpoints of one stage, per customer;
-- key: (customer_id, visit_seq)
-- DuckDB-only temp table behind core.stage_visits and the visit-based marts (time_in_stage,
-- stage_to_stage, path_nodes, path_frequencies, sankey_links): the rows of core.stage_visits plus
-- what those marts would otherwise get by re-sorting or re-grouping the visits per customer, all
-- from the one visit window: next_stage (the next visit's stage), n_visits, is_converted (the
-- customer ever visited $goal_stage), and on the customer's last visit (ended_at null) the
-- customer's visit stage indexes and start times in visit order (null on the other visits).
with marked as (
    select
        customer_id,
        event_seq,
        stage,
        stage_index,
        occurred_at,
        stage_index is distinct from lag(stage_index) over w as is_visit_start,
        row_number() over w as event_rank,
        count(*) over (w rows between unbounded preceding and unbounded following) as n_mapped
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
    window w as (partition by customer_id order by event_seq)
),

visits as (
    select
        customer_id,
        row_number() over v as visit_seq,
        stage,
        stage_index,
        occurred_at as started_at,
        lead(occurred_at) over v as ended_at,
        coalesce(lead(event_rank) over v, n_mapped + 1) - event_rank as n_events,
        lead(stage) over v as next_stage,
        count(*) over (v rows between unbounded preceding and unbounded following) as n_visits,
        bool_or(stage = $goal_stage) over (v rows between unbounded preceding and unbounded following)
            as is_converted,
        list(stage_index) over (v rows between unbounded preceding and current row) as stage_list,
        list(occurred_at) over (v rows between unbounded preceding and current row) as start_list
    from marked
    where is_visit_start
    window v as (partition by customer_id order by event_seq)
)

select
    customer_id, visit_seq, stage, stage_index, started_at, ended_at, n_events, next_stage, n_visits,
    is_converted,
    case when ended_at is null then stage_list end as stage_list,
    case when ended_at is null then start_list end as start_list
from visits
