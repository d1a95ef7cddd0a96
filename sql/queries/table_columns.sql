-- The columns of table $schema.$table (none: it does not exist).
select column_name
from information_schema.columns
where table_schema = $schema and table_name = $table
