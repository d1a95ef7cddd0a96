-- grain: one mismatch between the path table and the customers; zero rows = pass
-- The rows of path_frequencies (top paths + 'other paths') sum to all customers with a mapped
-- touchpoint, and the shares sum to 1.
with paths as (
    select coalesce(sum(customers), 0) as path_customers, sum(share) as share_total
    from marts.path_frequencies
),

customers as (
    select count(distinct customer_id) as all_customers
    from core.stage_visits
)

select p.path_customers, c.all_customers, p.share_total
from paths as p
cross join customers as c
where p.path_customers <> c.all_customers
   or (c.all_customers > 0 and abs(p.share_total - 1) > 1e-9)
