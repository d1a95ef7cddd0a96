-- The bad rows of the file being read, counted over its batches so far (reason, stored record, times seen):
-- empty before its first batch; sql/ingest/known_rejects.sql adds each batch's.
create or replace temp table file_rejects (reason varchar, raw_record varchar, seen bigint);
