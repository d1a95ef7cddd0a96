-- Appends one classified batch (temp tables `classified` and `rejected`) to the warehouse. Runs inside the
-- caller's transaction together with the manifest row, so a file is loaded whole or not at all.
insert into core.events
select
    event_id, $source, $source_kind, $source_priority, event_name, occurred_at, channel,
    properties::json, row_md5, $run_id, $now
from classified
where outcome = 'loaded';

insert into core.event_identifiers
select distinct $source, event_id, i.id_type, i.id_value, occurred_at
from (select event_id, occurred_at, unnest(identifiers) as i from classified where outcome = 'loaded');

insert into ingest.quarantine
select $run_id, $source, $path, c.line, c.outcome, c.detail, r.raw_record
from classified as c
join rejected as r using (line)
where c.outcome not in ('loaded', 'deduplicated');
