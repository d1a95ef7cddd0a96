-- grain: one row read from one source file; key: line
-- Parses and validates every row of the canonical batch (registered as `batch`) and decides its
-- outcome: 'loaded', 'deduplicated', or a quarantine reason (docs/sources.md lists them).
with batch_rows as (
    select * from batch
),

parsed as (
    select
        *,
        regexp_matches(occurred_at_raw, '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$') as has_offset,
        case
            when regexp_matches(occurred_at_raw, '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then try_cast(occurred_at_raw as timestamptz)
            else timezone($timezone, try_cast(occurred_at_raw as timestamp))
        end as occurred_at,
        len(identifiers) as n_identifiers
    from batch_rows
),

validated as (
    select
        *,
        case
            when malformed then 'malformed_record'
            when occurred_at_raw is null then 'missing_required_field'
            when event_name is null then 'missing_required_field'
            when $has_event_id and event_id is null then 'missing_required_field'
            when not has_offset and $timezone is null and try_cast(occurred_at_raw as timestamp) is not null
                then 'timestamp_without_zone'
            when occurred_at is null or not isfinite(occurred_at) then 'unparsable_timestamp'
            when n_identifiers = 0 then 'missing_identifier'
            when occurred_at > $now + interval 1 day then 'timestamp_in_future'
        end as reason
    from parsed
),

explained as (
    select
        *,
        case reason
            when 'malformed_record' then 'the line is not a JSON object'
            when 'missing_required_field' then case
                when occurred_at_raw is null then 'occurred_at is empty'
                when event_name is null then 'event_name is empty'
                else 'event_id is empty' end
            when 'timestamp_without_zone' then 'no UTC offset and the source declares no timezone'
            when 'unparsable_timestamp' then 'cannot parse ' || occurred_at_raw || ' as a timestamp'
            when 'missing_identifier' then 'no identifier column has a value'
            when 'timestamp_in_future' then 'occurred_at ' || occurred_at_raw || ' is more than a day after the run'
        end as detail
    from validated
),

keyed as (
    select
        * exclude (event_id),
        coalesce(event_id, 'h' || md5(raw_record)) as event_id,
        md5(concat_ws('|', strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%f'), event_name, channel,
            to_json(list_sort(identifiers)), properties)) as row_md5
    from explained
),

first_seen as (
    -- the first valid row of each event_id in the file is the candidate; later ones are repeats
    select
        *,
        first_value(row_md5) over (partition by event_id order by line) as first_md5,
        row_number() over (partition by event_id order by line) as nth
    from keyed
    where reason is null
)

select
    k.line,
    k.event_id,
    k.occurred_at,
    k.event_name,
    k.channel,
    k.identifiers,
    k.properties,
    k.raw_record,
    k.row_md5,
    case
        when k.reason is not null then k.reason
        when f.nth > 1 and f.row_md5 = f.first_md5 then 'deduplicated'
        when f.nth > 1 then 'duplicate_event_id'
        when e.event_id is null then 'loaded'
        when e.row_md5 = k.row_md5 then 'deduplicated'
        else 'duplicate_event_id'
    end as outcome,
    case
        when k.reason is not null then k.detail
        when f.nth > 1 and f.row_md5 <> f.first_md5 then 'event_id ' || k.event_id || ' repeats with other content earlier in this file'
        when e.event_id is not null and e.row_md5 <> k.row_md5 then 'event_id ' || k.event_id || ' was loaded before with other content'
    end as detail
from keyed as k
left join first_seen as f on f.line = k.line
left join core.events as e on e.source = $source and e.event_id = k.event_id
