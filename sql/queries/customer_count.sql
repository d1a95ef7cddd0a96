-- Customers in the identity map.
select count(distinct customer_id)
from core.identity_map
