-- Whether the warehouse attached as catalog $catalog predates row_md5 as a number (it held md5() hex text).
select coalesce(any_value(data_type = 'VARCHAR'), false)
from information_schema.columns
where table_catalog = $catalog
  and table_schema = 'core'
  and table_name = 'events'
  and column_name = 'row_md5'
