-- The customer holding identifier ($id_type, $id_value) as stored (hashed when personal).
select customer_id
from core.identity_map
where id_type = $id_type and id_value = $id_value
