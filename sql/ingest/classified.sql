-- grain: one row read from one source file; key: line
-- Parses and validates every row of the canonical batch (temp table `batch`, built by the source's
-- mapping) and decides its outcome: 'loaded', 'deduplicated', or a quarantine reason
-- (docs/sources.md lists them). Written for speed: one regex per row, hash aggregates, no sorts.
-- A timestamp must match $timestamp_format (mapping.TIMESTAMP_FORMAT: ISO-8601 date, optional time,
-- optional Z / UTC / numeric offset after a time); anything else is unparsable, never guessed.
-- A timestamp before 1970-01-02 UTC is an export's placeholder for an empty date (0001-01-01, 1900-01-01,
-- the Unix epoch in any zone), never a touchpoint: as the first touch it would start every journey.
-- A detail quotes occurred_at's text, unless its column feeds a personal identifier type ($occurred_at_pii:
-- 'email' or 'phone', else null): the raw value must not reach the quarantine, so it reads `<redacted phone>`.
with parts as (
    select *, regexp_extract(occurred_at_raw, $timestamp_format, ['ymd', 'hms', 'utc_offset']) as ts
    from batch
),

parsed as (
    select
        *,
        ts.utc_offset <> '' as has_offset,
        case when ts.ymd <> '' then try_cast(ts.ymd || ' ' || coalesce(nullif(ts.hms, ''), '00:00') as timestamp) end
            as naive_at
    from parts
),

timed as (
    select
        *,
        case
            when has_offset then try_cast(
                ts.ymd || ' ' || ts.hms || case when ts.utc_offset in ('Z', 'z', 'UTC') then '+00' else ts.utc_offset end
                as timestamptz)
            else timezone($timezone, naive_at)
        end as occurred_at
    from parsed
),

validated as (
    select
        *,
        case
            when malformed then 'malformed_record'
            when occurred_at_raw is null or event_name is null or ($has_event_id and event_id is null)
                then 'missing_required_field'
            when not has_offset and $timezone is null and naive_at is not null then 'timestamp_without_zone'
            when occurred_at is null or not isfinite(occurred_at) then 'unparsable_timestamp'
            when len(identifiers) = 0 then 'missing_identifier'
            when occurred_at > $now + interval 1 day then 'timestamp_in_future'
            when occurred_at < timestamptz '1970-01-02 00:00:00+00' then 'timestamp_too_early'
            when len(type_errors) > 0 then 'wrong_type'
        end as reason
    from timed
),

keyed as materialized (
    -- without an event_id column the id is a hash of the instant (however its text writes it), event name,
    -- identifiers and properties: 't…'. Earlier versions hashed the time's text instead: 'h…'; where the
    -- source holds such rows ($legacy_ids), a row is also matched by that id and by its content.
    select
        * exclude (event_id),
        coalesce(event_id, 't' || md5(concat_ws('|', epoch_us(occurred_at), event_name, identifiers::varchar,
                                                 properties))) as event_id,
        case when $legacy_ids and validated.event_id is null
            then 'h' || md5(concat_ws('|', occurred_at_raw, event_name, identifiers::varchar, properties))
        end as legacy_id,
        md5_number(concat_ws('|', epoch_us(occurred_at), event_name, channel, identifiers::varchar, properties)) as row_md5
    from validated
),

repeated as (
    -- event ids that occur more than once among this batch's valid rows, with their first row
    select event_id, arg_min(row_md5, line) as first_md5, min(line) as first_line
    from keyed
    where reason is null
    group by event_id
    having count(*) > 1
),

loaded_before as (
    -- with what the detail of a repeat with other content names: which fields differ, and the run that loaded it
    select event_id, row_md5, run_id, occurred_at, event_name, channel, properties
    from core.events
    where source = $source and event_id in (select event_id from keyed where reason is null)
),

legacy_by_id as (
    -- an 'h…' row an earlier version loaded from the same text (with other content, else it matches below)
    select event_id, row_md5
    from core.events
    where $legacy_ids and source = $source and event_id in (select legacy_id from keyed where reason is null)
),

legacy_by_content as (
    -- an 'h…' row an earlier version loaded with the same content, the time perhaps written otherwise
    select distinct row_md5
    from core.events
    where $legacy_ids and source = $source and starts_with(event_id, 'h')
      and row_md5 in (select row_md5 from keyed where reason is null)
)

select
    k.line,
    k.event_id,
    k.occurred_at,
    k.event_name,
    k.channel,
    k.identifiers,
    k.properties,
    k.row_md5,
    case
        when k.reason is not null then k.reason
        when r.first_line < k.line and r.first_md5 = k.row_md5 then 'deduplicated'
        when r.first_line < k.line then 'duplicate_event_id'
        when c.row_md5 is not null then 'deduplicated'
        when coalesce(e.event_id, l.event_id) is null then 'loaded'
        when coalesce(e.row_md5, l.row_md5) = k.row_md5 then 'deduplicated'
        else 'duplicate_event_id'
    end as outcome,
    case k.reason
        when 'malformed_record' then 'the line is not a JSON object'
        when 'missing_required_field' then case
            when k.occurred_at_raw is null then 'occurred_at is empty'
            when k.event_name is null then 'event_name is empty'
            else 'event_id is empty' end
        when 'timestamp_without_zone' then 'no UTC offset and the source declares no timezone'
        when 'unparsable_timestamp' then 'cannot parse '
            || coalesce('<redacted ' || $occurred_at_pii || '>', k.occurred_at_raw)
            || ' as a timestamp (expected ISO-8601: YYYY-MM-DD[THH:MM[:SS[.f]][Z|±HH:MM]])'
        when 'missing_identifier' then 'no identifier column has a value' || case when len(k.written_identifiers) = 0
            then ''
            else ': ' || array_to_string(k.written_identifiers, ', ')
                || case when len(k.written_identifiers) = 1 then ' holds' else ' hold' end
                || ' text that is no identifier (an email needs one @ and a dot after it, a phone a digit; N/A, '
                || 'unknown, -, null and the like mean no value; a JSON array or object is no email or phone)'
            end
        when 'timestamp_in_future' then 'occurred_at '
            || coalesce('<redacted ' || $occurred_at_pii || '>', k.occurred_at_raw)
            || ' is more than a day after the run'
        when 'timestamp_too_early' then 'occurred_at '
            || coalesce('<redacted ' || $occurred_at_pii || '>', k.occurred_at_raw)
            || ' is before 1970-01-02 UTC: an empty-date placeholder (0001-01-01, 1900-01-01, the Unix epoch)?'
        when 'wrong_type' then array_to_string(k.type_errors, '; ')
        else case
            when r.first_line < k.line and r.first_md5 <> k.row_md5
                then 'event_id ' || k.event_id || ' repeats with other content at line ' || r.first_line
            when (r.first_line is null or r.first_line = k.line) and e.row_md5 <> k.row_md5
                then 'event_id ' || e.event_id || ' was loaded before (run ' || e.run_id || ') with other '
                    || coalesce(nullif(concat_ws(', ',
                        case when e.occurred_at <> k.occurred_at then 'occurred_at' end,
                        case when e.event_name is distinct from k.event_name then 'event_name' end,
                        case when e.channel is distinct from k.channel then 'channel' end,
                        case when cast(e.properties as varchar) is distinct from cast(k.properties as varchar)
                            then 'properties' end), ''), 'identifiers')
            when (r.first_line is null or r.first_line = k.line) and l.row_md5 <> k.row_md5
                then 'event_id ' || l.event_id || ' was loaded before with other content'
        end
    end as detail
from keyed as k
left join repeated as r on r.event_id = k.event_id and k.reason is null
left join loaded_before as e on e.event_id = k.event_id and k.reason is null and (r.first_line is null or r.first_line = k.line)
left join legacy_by_id as l
    on l.event_id = k.legacy_id and k.reason is null and (r.first_line is null or r.first_line = k.line)
left join legacy_by_content as c
    on c.row_md5 = k.row_md5 and k.reason is null and (r.first_line is null or r.first_line = k.line)
