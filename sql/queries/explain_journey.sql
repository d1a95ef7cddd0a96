-- One customer's touchpoints in order, with stage, how it was assigned and the stage visit.
with t as (
    select *,
        case when stage_index is null then null
             when stage is distinct from lag(stage) over (partition by customer_id, stage_index is not null order by event_seq)
             then 1 else 0 end as starts_visit
    from core.touchpoints
    where customer_id = $customer_id
)
select event_seq, occurred_at, source, event_id, event_name, channel, stage, stage_source,
       case when stage_index is not null then
           sum(starts_visit) over (partition by stage_index is not null order by event_seq) end as visit_seq
from t
order by event_seq
