-- "From one stage to the next": marts.stage_to_stage, most customers first, ties in stage order (by
-- marts.stages, published with it: stage names sorted as text would put post_purchase first).
select p.from_stage, p.to_stage, p.customers, p.median_s, p.p90_s
from marts.stage_to_stage as p
left join marts.stages as s on s.stage = p.from_stage
order by p.customers desc, s.stage_index nulls last, p.from_stage, p.to_stage
