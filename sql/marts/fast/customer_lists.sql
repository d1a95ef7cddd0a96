-- grain: one customer with a mapped touchpoint at or before as_of; key: customer_id
-- DuckDB-only temp table read by visit_rows and funnel_scan: the customer's mapped touchpoints as
-- lists in event order (event_seq, stage_index, occurred_at and the funnel's $breakdown attribute).
-- One hash aggregate gathers them and one permutation (list_grade_up) orders them, so the
-- touchpoints are grouped and ordered once for the visits and the funnel together.
with grouped as (
    select
        customer_id,
        list_grade_up(list(event_seq)) as event_order,
        list(event_seq) as seq0,
        list(stage_index) as stage0,
        list(occurred_at) as time0,
        list(case $breakdown
            when 'channel' then channel
            when 'source' then source
            when 'source_kind' then source_kind
            when 'event_name' then event_name
        end) as value0
    from core.touchpoints
    where stage_index is not null
      and occurred_at <= $as_of
    group by customer_id
)

select
    customer_id,
    list_select(seq0, event_order) as seqs,
    list_select(stage0, event_order) as stages,
    list_select(time0, event_order) as times,
    list_select(value0, event_order) as vals
from grouped
