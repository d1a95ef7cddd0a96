-- Migrates a warehouse written before row_md5 became a number: core.events.row_md5 held md5() as 32 hex
-- characters; it now holds md5_number() of the same text (the same 16 bytes read little-endian, half
-- the storage and no hex formatting at ingest), so rows read again still compare equal.
alter table core.events alter column row_md5 set data type uhugeint
    using ('0x' || array_to_string(list_reverse(regexp_extract_all(row_md5, '..')), ''))::uhugeint
