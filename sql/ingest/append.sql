-- Appends one classified batch (temp tables `classified` and `rejected`) to the warehouse. Runs inside the
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

-- anything shaped like an email is redacted from what a rejected row shows, whichever column held it (a
-- row whose values shifted, a timestamp column holding an address, a line that is not JSON)
insert into ingest.quarantine
select
    $run_id, $source, $path, c.line, c.outcome,
    regexp_replace(c.detail, $email_like, '<redacted email>', 'g'),
    regexp_replace(r.raw_record, $email_like, '<redacted email>', 'g')
from classified as c
join rejected as r using (line)
where c.outcome not in ('loaded', 'deduplicated');
