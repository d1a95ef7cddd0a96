-- grain: one funnel customer and one breakdown dimension; key: (customer_id, dimension)
-- The values the funnel is broken down by: the configured touchpoint attribute of the chosen
-- attempt's step-1 touchpoint (dimension = $breakdown, e.g. its channel), and, when
-- $segment_property is set, the customer's segment (persona): the latest non-empty value of that
-- event property among the customer's touchpoints at or before as_of ('(none)' when no event carries one).
with segment_values as (
    select
        customer_id,
        event_seq,
        json_extract_string(properties, '$.' || $segment_property) as value
    from core.touchpoints
    where $segment_property is not null and occurred_at <= $as_of
),

segments as (
    select customer_id, arg_max(value, event_seq) as segment
    from segment_values
    where value is not null and value <> ''
    group by customer_id
)

select customer_id, $breakdown as dimension, breakdown_value
from marts.funnel_customers
union all
select c.customer_id, 'segment' as dimension, coalesce(s.segment, '(none)') as breakdown_value
from marts.funnel_customers as c
left join segments as s using (customer_id)
where $segment_property is not null
