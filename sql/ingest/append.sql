-- Appends one classified batch (temp tables `classified` and `rejects`) to the warehouse. Runs inside the
-- caller's transaction together with the manifest row, so a file is loaded whole or not at all.
insert into core.events
select
    event_id, $source, $source_kind, $source_priority, event_name, occurred_at, channel,
    properties, row_md5, $run_id, $now
from classified
where outcome = 'loaded';

-- no DISTINCT needed: a loaded (source, event_id) is new and unique, and its identifier types are distinct
insert into core.event_identifiers
select $source, event_id, i.id_type, i.id_value, occurred_at
from (select event_id, occurred_at, unnest(identifiers) as i from classified where outcome = 'loaded');

-- the rejected rows new to the file, redacted (temp table `rejects`, sql/ingest/known_rejects.sql)
insert into ingest.quarantine
select $run_id, $source, $path, line, reason, detail, raw_record
from rejects;
