-- grain: one customer with a mapped touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table read by visit_rows and funnel_lists (when every funnel step is a stage): the
-- customer's mapped touchpoints as
-- lists in event order (event_seq, stage_index, occurred_at). The funnel's breakdown value is not
-- listed: that list of strings cost 1.3 s of this table's 4.3 s at 1e7, and fetching the one value
-- per customer afterwards (funnel_customers joins back to core.touchpoints) about 0.8 s (measured).
-- One hash aggregate gathers them and one permutation (list_grade_up) orders them, so the
-- touchpoints are grouped and ordered once for the visits and the funnel together.
with grouped as (
    select
        customer_id,
        list_grade_up(list(event_seq)) as event_order,
        list(event_seq) as seq0,
        list(stage_index) as stage0,
        list(occurred_at) as time0
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
    group by customer_id
)

select
    customer_id,
    list_select(seq0, event_order) as seqs,
    list_select(stage0, event_order) as stages,
    list_select(time0, event_order) as times
from grouped
