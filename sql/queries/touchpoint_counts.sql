-- What layer 3 built: customers with a touchpoint, touchpoints no rule or inference mapped, and those inferred.
select
    count(distinct customer_id) as customers,
    count(*) filter (where stage = 'unmapped') as unmapped,
    count(*) filter (where stage_source = 'inferred') as inferred
from core.touchpoints
