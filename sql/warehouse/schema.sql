-- The warehouse's persistent tables. Idempotent: run at every connect.
create schema if not exists ingest;
create schema if not exists core;
create schema if not exists marts;

-- grain: one file (or table) read by one run; key: (source, path, content_sha256)
create table if not exists ingest.manifest (
    run_id varchar not null,
    source varchar not null,
    path varchar not null,
    size_bytes bigint,
    content_sha256 varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_deduplicated bigint not null,
    rows_quarantined bigint not null,
    loaded_at timestamptz not null,
    note varchar,  -- e.g. extra columns that were ignored
    spec_sha256 varchar  -- mapping.spec_fingerprint of the source when the file was read (null: before it was kept)
);
-- warehouses written before spec_sha256 was kept
alter table ingest.manifest add column if not exists spec_sha256 varchar;

-- grain: one headline number of one run that published its marts; key: (run_id, metric)
-- Appended by sql/marts/run_history.sql in the transaction that publishes the run's marts.
create table if not exists marts.run_history (
    run_id varchar not null,
    run_at timestamptz not null,
    as_of timestamptz not null,
    metric varchar not null,
    value double
);

-- grain: the warehouse (one row): a keyed fingerprint of the salt its personal data were hashed with
create table if not exists ingest.salt (
    fingerprint varchar not null
);

-- grain: one rejected row; key: (source, path, line, run_id)
create table if not exists ingest.quarantine (
    run_id varchar not null,
    source varchar not null,
    path varchar not null,
    line bigint not null,
    reason varchar not null,
    detail varchar,
    raw_record varchar
);

-- grain: one source event; key: (source, event_id)
create table if not exists core.events (
    event_id varchar not null,
    source varchar not null,
    source_kind varchar not null,
    source_priority integer not null,
    event_name varchar not null,
    occurred_at timestamptz not null,
    channel varchar,
    properties json,
    row_md5 uhugeint not null,
    run_id varchar not null,
    loaded_at timestamptz not null
    -- unique on (source, event_id): ingest classifies every repeat as deduplicated or quarantined
    -- (no PRIMARY KEY index: it would slow every append; tests/ingest/test_faults.py checks uniqueness after re-reads)
);

-- grain: one identifier seen on one event; key: (source, event_id, id_type, id_value)
-- occurred_at is copied from the event so identity stitching never has to join core.events.
create table if not exists core.event_identifiers (
    source varchar not null,
    event_id varchar not null,
    id_type varchar not null,
    id_value varchar not null,
    occurred_at timestamptz not null
);
