"""A PostgreSQL source end to end against a real server on loopback."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from journey_analytics.ingest import ingest_source
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect
from tests.helpers import pii_hash, write_config
from tests.postgres import binaries, postgres_server

pytestmark = pytest.mark.skipif(binaries() is None, reason="PostgreSQL binaries not installed (apt-get install postgresql)")
NOW = datetime(2026, 9, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def pg_uri():
    import adbc_driver_postgresql.dbapi as pg

    with postgres_server() as uri:
        with pg.connect(uri) as conn, conn.cursor() as cur:
            cur.execute('create schema "crm app"')
            # the columns after `extra` have types that cannot be read as text; the spec does not read them
            cur.execute('create table "crm app".activities (activity_id text, occurred_at timestamptz, '
                        'activity text, contact_id text, email text, lead_source text, amount numeric, extra int, '
                        'u uuid, tags text[], span interval, blob bytea)')
            cur.execute("""insert into "crm app".activities values
                ('k1', '2026-08-03 12:15:02+02', 'lead_created', 'ct-1', ' Ann@Example.com', 'webinar', null, 1,
                 gen_random_uuid(), '{a,b}', '1 day', '\\x00ff'),
                ('k2', '2026-08-05 09:00:00+00', 'order_placed', 'ct-1', null, null, 120.50, 2,
                 gen_random_uuid(), '{}', '2 hours', '\\x01'),
                ('k3', null, 'order_placed', 'ct-2', null, null, 10, 3, null, null, null, null),
                ('k4', '2026-08-06 09:00:00+00', 'order_placed', null, null, null, 10, 4, null, null, null, null)""")
            conn.commit()
        yield uri


def _config(tmp_path, monkeypatch, uri, **spec):
    monkeypatch.setenv("CRM_TEST_DATABASE_URL", uri)
    source = {
        "name": "crm_db", "kind": "crm", "format": "postgres", "uri": "${CRM_TEST_DATABASE_URL}",
        "table": "crm app.activities",
        "columns": {"event_id": "activity_id", "occurred_at": "occurred_at", "event_name": "activity"},
        "identifiers": {"contact_id": "contact_id", "email": "email"},
        "derive": {"channel": [{"when": {"lead_source": {"regex": "."}}, "then": {"column": "lead_source"}},
                               {"then": "crm"}]},
        "properties": ["amount"],
    } | spec
    return write_config(tmp_path, sources=[source])


def test_a_table_is_ingested_with_types_zones_and_hashing(tmp_path, monkeypatch, pg_uri):
    config = _config(tmp_path, monkeypatch, pg_uri)
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
        assert result.path == "postgres:crm app.activities"
        assert "ignored column(s) not in the spec: extra, u, tags, span, blob" in result.note
        raw = con.execute("select raw_record from ingest.quarantine order by line").fetchall()
        assert all("extra" not in r and "tags" not in r for (r,) in raw)  # only the columns the spec reads
        assert dict(result.reasons) == {"missing_required_field": 1, "missing_identifier": 1}
        events = con.execute("select event_id, occurred_at, channel, properties->>'amount' from core.events "
                             "order by event_id").fetchall()
        assert events == [
            ("k1", datetime(2026, 8, 3, 10, 15, 2, tzinfo=timezone.utc), "webinar", None),
            ("k2", datetime(2026, 8, 5, 9, 0, tzinfo=timezone.utc), "crm", "120.50"),
        ]
        emails = con.execute("select id_value from core.event_identifiers where id_type = 'email'").fetchall()
        assert emails == [(pii_hash("ann@example.com", "email", config.hash_salt),)]
        # reading the table again loads nothing new
        (again,) = ingest_source(con, config, config.sources[0], run_id="r2", now=NOW)
        # a table is read whole every run: its 2 bad rows, quarantined before, are not quarantined again
        assert (again.rows_loaded, again.rows_deduplicated, again.rows_quarantined) == (0, 4, 0)
        assert con.execute("select count(*) from core.events").fetchall() == [(2,)]


def test_a_column_the_spec_reads_that_cannot_be_text_fails_the_source_saying_how_to_cast_it(
        tmp_path, monkeypatch, pg_uri):
    config = _config(tmp_path, monkeypatch, pg_uri, properties=["amount", "blob"])
    with connect(config.warehouse_path) as con, pytest.raises(SourceError) as err:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    assert "postgres:crm app.activities (crm_db): a column the spec reads cannot be read as text" in str(err.value)
    assert "blob binary" in str(err.value) and "Read the source through `query:` and cast that column" in str(err.value)


def test_a_bytea_column_the_spec_reads_is_refused_even_when_its_bytes_are_utf8(tmp_path, monkeypatch, pg_uri):
    """Row k2's bytea is 0x01, valid UTF-8: it loaded as text, and the source failed only once a value was not."""
    config = _config(tmp_path, monkeypatch, pg_uri, table=None, properties=["amount", "blob"],
                     query="select * from \"crm app\".activities where activity_id = 'k2'")
    with connect(config.warehouse_path) as con:
        with pytest.raises(SourceError) as err:
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert con.execute("select count(*) from core.events").fetchall() == [(0,)]
    assert str(err.value) == (
        "postgres:query (crm_db): a column the spec reads cannot be read as text (bytes (binary) have no text form "
        "here; columns: blob binary). Read the source through `query:` and cast that column, e.g. "
        "`select id::text as id, encode(payload, 'hex') as payload, ...`.")


def test_a_table_is_read_in_batches_of_the_size_asked_with_lines_numbered_on(tmp_path, monkeypatch, pg_uri):
    from journey_analytics.sources.postgres import open_postgres
    from journey_analytics.sources.readers import LINE

    config = _config(tmp_path, monkeypatch, pg_uri)
    batches = list(open_postgres(config.sources[0], batch_rows=3).batches)
    assert [b.height for b in batches] == [3, 1]
    assert [line for b in batches for line in b[LINE]] == [1, 2, 3, 4]


def test_an_infinite_timestamp_is_kept_as_the_word_not_a_crash(tmp_path, monkeypatch, pg_uri):
    """PostgreSQL's `infinity` panicked inside Polars: the run ended with a Rust backtrace, later sources unread.
    Then it read as `-9222425352054775809 us since 1970-01-01 (out of range)`: the driver's shift of PostgreSQL's
    2000 epoch to 1970 had wrapped around. It reads as PostgreSQL writes it; as an event's time, it is quarantined."""
    config = _config(tmp_path, monkeypatch, pg_uri, table=None, properties=["valid_from", "valid_until"],
                     query="select activity_id, case when activity_id = 'k3' then 'infinity'::timestamptz "
                           "else occurred_at end as occurred_at, activity, contact_id, email, lead_source, "
                           "'-infinity'::timestamptz as valid_from, 'infinity'::timestamp as valid_until "
                           "from \"crm app\".activities where activity_id in ('k2', 'k3')")
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
        properties = con.execute("select properties from core.events").fetchall()[0][0]
        (detail,) = con.execute("select detail from ingest.quarantine").fetchall()[0]
    assert json.loads(properties) == {"valid_from": "-infinity", "valid_until": "infinity"}
    assert detail.startswith("cannot parse infinity as a timestamp")


def test_a_query_source_reads_only_what_it_selects(tmp_path, monkeypatch, pg_uri):
    config = _config(tmp_path, monkeypatch, pg_uri, table=None,
                     query="select * from \"crm app\".activities where activity = 'lead_created'")
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert (result.rows_read, result.rows_loaded, result.path) == (1, 1, "postgres:query")


def test_a_missing_table_or_unset_variable_is_a_clear_error(tmp_path, monkeypatch, pg_uri):
    config = _config(tmp_path, monkeypatch, pg_uri, table="nope")
    with connect(config.warehouse_path) as con:
        with pytest.raises(SourceError, match=r"postgres:nope \(crm_db\): .*nope"):
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        monkeypatch.delenv("CRM_TEST_DATABASE_URL")
        with pytest.raises(SourceError, match=r"\$\{CRM_TEST_DATABASE_URL\} but the environment has no"):
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        # libpq splits at the first `@`: the rest of the password was shown as a host name it could not find
        monkeypatch.setenv("CRM_TEST_DATABASE_URL", "postgresql://ann:s3cr@t-PW@127.0.0.1:1/db")
        with pytest.raises(SourceError, match=r"two `@` before its host: write an `@` .* as %40") as err:
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert "t-PW" not in str(err.value)


def test_a_failing_source_leaves_no_connection_open(tmp_path, monkeypatch, pg_uri):
    """A source that failed (a table that is not there, a required column the table lacks, a server that does not
    answer) left its connection and cursor open: when Python collected them, the driver printed "Exception
    ignored ... Cannot close AdbcConnection with open AdbcStatement" and a traceback after the run's message."""
    import gc
    import sys

    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    for spec in ({"table": "nope"}, {"columns": {"event_id": "activity_id", "occurred_at": "occurred_at",
                                                 "event_name": "no_such_column"}}):
        config = _config(tmp_path, monkeypatch, pg_uri, **spec)
        with connect(config.warehouse_path) as con, pytest.raises(SourceError):
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        gc.collect()
    config = _config(tmp_path, monkeypatch, "postgresql://ann@127.0.0.1:1/db")
    with connect(config.warehouse_path) as con, pytest.raises(SourceError):
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    gc.collect()
    assert [str(d.exc_value) for d in dropped] == []


@pytest.mark.parametrize("uri", ["postgresql://ann:s3cret PW@127.0.0.1:1/db", "postgresql://ann:s3cret%20PW@127.0.0.1:1/db",
                                 "postgres://ann:s3cretQ@[::1:55439/postgres",  # no URL parser parses this one
                                 "postgresql://127.0.0.1:1/db?user=ann&password=s3cret%ss",  # shown by the driver
                                 "host=127.0.0.1 port=1 user=ann password=s3cret%00X dbname=db",
                                 # unquoted with a blank: libpq quoted the second word in its error
                                 "host=127.0.0.1 port=1 user=ann password=hunter2 s3cretPW dbname=db",
                                 "host=127.0.0.1 port=1 user=ann password=hunter2 s3c dbname=db",
                                 "host=127.0.0.1 port=1 user=ann password=hunter2 s3c=PW dbname=db"])
def test_a_connection_error_never_shows_the_password(tmp_path, monkeypatch, uri):
    config = _config(tmp_path, monkeypatch, uri)
    with connect(config.warehouse_path) as con, pytest.raises(SourceError) as err:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    assert "postgres:crm app.activities (crm_db): " in str(err.value)
    assert "s3c" not in str(err.value) and err.value.__cause__ is None


@pytest.mark.parametrize("uri", ["host=db user=ann password = s3cret dbname=x",  # libpq allows blanks around `=`
                                 "postgresql://ann:s3cret@db/x"])
def test_a_driver_message_quoting_the_connection_string_shows_no_password(uri):
    from journey_analytics.sources.postgres import _without_secrets

    shown = _without_secrets(f'invalid connection option in "{uri}" near password = s3cret', uri)
    assert "s3cret" not in shown and shown.startswith("invalid connection option in ")


def test_a_server_error_while_rows_arrive_fails_the_source_without_showing_the_value(tmp_path, monkeypatch, pg_uri):
    # the cast fails on the server as it sends the rows, after the query was accepted; its message quotes the value
    config = _config(tmp_path, monkeypatch, pg_uri, table=None, properties=["amount", "n"],
                     query="select *, (coalesce(email, 'x')::int)::text as n from \"crm app\".activities")
    with connect(config.warehouse_path) as con, pytest.raises(SourceError) as err:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    message = str(err.value)
    assert message.startswith("postgres:query (crm_db): ") and "invalid input syntax for type integer" in message
    assert "Ann@" not in message.lower() and "ann@" not in message.lower() and '"<redacted>"' in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
