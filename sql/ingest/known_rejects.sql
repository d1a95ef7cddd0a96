-- The rejected rows of one classified batch (temp tables `classified` and `rejected`) as the quarantine
-- stores them, without those an earlier read of the same file quarantined already. A file that grew or
-- changed is read whole again; its old bad rows are then counted as deduplicated, not quarantined again,
-- so the quarantine holds each bad row of a file once and a run counts only the bad rows new to it.
-- Rows match by reason and stored record, as multisets: the n-th occurrence in this read (in line order,
-- over the file's batches so far, counted in temp table `file_rejects`) is known when earlier reads of
-- the file kept at least n of them. Under on_bad_row: fail no bad row is known: a file with any is refused.

-- anything shaped like an email is redacted from what a rejected row shows, whichever column held it (a
-- row whose values shifted, a timestamp column holding an address, a line that is not JSON)
create or replace temp table rejects as
select
    c.line,
    c.outcome as reason,
    regexp_replace(c.detail, $email_like, '<redacted email>', 'g') as detail,
    regexp_replace(r.raw_record, $email_like, '<redacted email>', 'g') as raw_record
from classified as c
join rejected as r using (line)
where c.outcome not in ('loaded', 'deduplicated');

create or replace temp table known_rejects as
with earlier as (
    select reason, raw_record, count(*) as kept
    from ingest.quarantine
    where source = $source and path = $path and run_id <> $run_id and $on_bad_row = 'quarantine'
    group by reason, raw_record
),

numbered as (
    select
        r.line,
        r.reason,
        r.raw_record,
        coalesce(f.seen, 0) + row_number() over (partition by r.reason, r.raw_record order by r.line) as occurrence
    from rejects as r
    left join file_rejects as f
        on f.reason = r.reason and f.raw_record is not distinct from r.raw_record
)

select n.line
from numbered as n
join earlier as e
    on e.reason = n.reason and e.raw_record is not distinct from n.raw_record
where n.occurrence <= e.kept;

create or replace temp table file_rejects as
select reason, raw_record, sum(seen) as seen
from (
    select reason, raw_record, seen from file_rejects
    union all
    select reason, raw_record, count(*) as seen from rejects group by reason, raw_record
)
group by reason, raw_record;

update classified set outcome = 'deduplicated' where line in (select line from known_rejects);

delete from rejects where line in (select line from known_rejects);
