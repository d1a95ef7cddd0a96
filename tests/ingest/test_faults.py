"""Ingest under injected faults, repeated files, machine time zones and broken files."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from journey_analytics.ingest import ingest_source
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect, transaction
from tests.helpers import source_paths, write_config

NOW = datetime(2026, 9, 1, tzinfo=timezone.utc)
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
FAULTS = ("malformed_record", "missing_required_field", "unparsable_timestamp", "missing_identifier",
          "timestamp_in_future", "duplicate_event_id")


def _good(i: int, rng: random.Random) -> dict:
    at = T0 + timedelta(seconds=rng.randrange(80 * 86400), milliseconds=rng.randrange(1000))
    return {"event_id": f"e{i}", "timestamp": at.isoformat().replace("+00:00", "Z"),
            "anonymous_id": f"a{rng.randrange(20000)}", "event": rng.choice(["ad_click", "pricing_view", "blog_view"]),
            "utm_medium": rng.choice([None, "cpc", "email"]), "url": f"https://shop.example/{i}"}


def _faulty(kind: str, i: int, rng: random.Random, good_rows: list[dict]) -> str:
    row = _good(i, rng)
    if kind == "malformed_record":
        return json.dumps(row)[:-7]  # cut off: not JSON
    if kind == "missing_required_field":
        row["timestamp" if i % 2 else "event"] = None if i % 3 else ""
    elif kind == "unparsable_timestamp":
        row["timestamp"] = rng.choice(["31/02/2026", "yesterday", "2026-13-45T99:00:00Z"])
    elif kind == "missing_identifier":
        del row["anonymous_id"]
    elif kind == "timestamp_in_future":
        row["timestamp"] = "2099-01-01T00:00:00Z"
    else:  # an event id loaded earlier in the file, with other content
        row = {**rng.choice(good_rows), "event": "checkout_started"}
    return json.dumps(row)


@pytest.fixture(scope="module")
def faulty_file(tmp_path_factory):
    """1e5 lines, 1,000 of them faulty (six kinds), at known lines."""
    rng = random.Random(11)
    folder = tmp_path_factory.mktemp("faults")
    n, n_faults = 100_000, 1_000
    fault_lines = sorted(rng.sample(range(1_000, n + 1), n_faults))  # faults after line 1000: a good row precedes each duplicate
    kinds = {line: FAULTS[k % len(FAULTS)] for k, line in enumerate(fault_lines)}
    lines, good_rows = [], []
    for line in range(1, n + 1):
        if line in kinds:
            lines.append(_faulty(kinds[line], 10**6 + line, rng, good_rows))
        else:
            good_rows.append(_good(line, rng))
            lines.append(json.dumps(good_rows[-1]))
    (folder / "web.jsonl").write_text("\n".join(lines) + "\n")
    return folder, kinds, {r["event_id"] for r in good_rows}


def test_exactly_the_injected_faults_are_quarantined_and_every_good_row_loads(faulty_file):
    folder, kinds, good_ids = faulty_file
    config = write_config(folder, sources=source_paths(folder, web="web.jsonl"))
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW, batch_rows=30_000)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_deduplicated) == (
            100_000, 99_000, 1_000, 0)
        assert dict(result.reasons) == dict(Counter(kinds.values()))
        quarantined = dict(con.execute("select line, reason from ingest.quarantine").fetchall())
        assert quarantined == kinds
        loaded = {r[0] for r in con.execute("select event_id from core.events").fetchall()}
        assert loaded == good_ids


def test_the_same_file_twice_and_a_file_repeating_earlier_rows_change_nothing(faulty_file, tmp_path):
    folder, _, _ = faulty_file
    lines = (folder / "web.jsonl").read_text().splitlines()
    (tmp_path / "day1.jsonl").write_text("\n".join(lines[:50_000]) + "\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, web="*.jsonl"))
    with connect(config.warehouse_path) as con:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        snapshot = lambda: con.execute("select * exclude (run_id, loaded_at) from core.events order by all").fetchall()  # noqa: E731
        before = snapshot()
        assert all(r.skipped for r in ingest_source(con, config, config.sources[0], run_id="r2", now=NOW))
        (tmp_path / "day2.jsonl").write_text("\n".join(lines[10_000:30_000]) + "\n")  # rows day1 already had
        (day2,) = [r for r in ingest_source(con, config, config.sources[0], run_id="r3", now=NOW) if not r.skipped]
        assert day2.rows_loaded == 0 and day2.rows_read == 20_000
        assert snapshot() == before
        assert con.execute("select count(*) - count(distinct (source, event_id)) from core.events").fetchall() == [(0,)]


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_results_do_not_depend_on_the_machine_time_zone(zone, tmp_path, monkeypatch):
    from tests.ingest.test_ingest import CRM_CSV, WEB_LINES, _write_web

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        _write_web(tmp_path, WEB_LINES)
        (tmp_path / "crm.csv").write_text(CRM_CSV)
        config = write_config(tmp_path, sources=source_paths(tmp_path, web="web.jsonl", crm="crm.csv"))
        with connect(config.warehouse_path) as con:
            for source in config.sources:
                ingest_source(con, config, source, run_id="r1", now=NOW)
            rows = con.execute("select source, event_id, strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%f%z'), row_md5 "
                               "from core.events order by all").fetchall()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert rows == [
        ("crm", "k1", "2026-08-03T10:15:02.000000+00", rows[0][3]),
        ("crm", "k2", "2026-01-15T08:00:00.000000+00", rows[1][3]),
        ("web", "c-1", "2026-08-03T10:15:02.123000+00", rows[2][3]),
        ("web", "c-2", "2026-08-03T10:15:02.000000+00", rows[3][3]),
    ]
    md5s = [r[3] for r in rows]
    stored = tmp_path.parent / "tz-md5.json"  # the same content hashes under every zone
    if stored.exists():
        assert json.loads(stored.read_text()) == md5s
    stored.write_text(json.dumps(md5s))


def test_an_extra_column_is_ignored_and_reported(tmp_path):
    (tmp_path / "s.csv").write_text("interaction_id,created_at,interaction,requester_email,topic,csat,nps,agent\n"
                                    "s1,2026-08-03T10:00:00Z,ticket_opened,a@b.org,bug,,,Kim\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, service="s.csv"))
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert result.rows_loaded == 1 and result.note == "ignored column(s) not in the spec: agent"
        assert con.execute("select note from ingest.manifest").fetchall() == [(result.note,)]
        assert "Kim" not in con.execute("select properties::varchar from core.events").fetchall()[0][0]


def test_a_value_of_the_wrong_type_is_quarantined_not_nulled(tmp_path):
    (tmp_path / "s.csv").write_text("interaction_id,created_at,interaction,requester_email,topic,csat,nps\n"
                                    "s1,2026-08-03T10:00:00Z,survey_response,a@b.org,bug,5,9\n"
                                    "s2,2026-08-03T10:00:00Z,survey_response,a@b.org,bug,great,9\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, service="s.csv"))
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert dict(result.reasons) == {"wrong_type": 1}
        assert con.execute("select line, detail from ingest.quarantine").fetchall() == [(3, "csat is not a valid integer")]


@pytest.mark.parametrize("content", ["", "interaction_id,created_at,interaction,requester_email,topic,csat,nps\n"])
def test_an_empty_file_loads_nothing_and_is_recorded(tmp_path, content):
    (tmp_path / "s.csv").write_text(content)
    config = write_config(tmp_path, sources=source_paths(tmp_path, service="s.csv"))
    with connect(config.warehouse_path) as con:
        (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)
        assert con.execute("select count(*) from ingest.manifest").fetchall() == [(1,)]


@pytest.mark.parametrize("name, data, fmt", [
    ("s.csv.gz", b"\x1f\x8b\x08 a truncated gzip stream", "CSV"),
    ("s.parquet", b"PAR1 not really parquet", "Parquet"),
])
def test_an_unreadable_file_fails_its_source_with_the_file_named(tmp_path, name, data, fmt):
    (tmp_path / name).write_bytes(data)
    sources = source_paths(tmp_path, service=name)
    sources[0]["format"] = fmt.lower()
    config = write_config(tmp_path, sources=sources)
    with connect(config.warehouse_path) as con:
        with pytest.raises(SourceError, match=rf"{name}: cannot be read as {fmt}"):
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert con.execute("select count(*) from core.events").fetchall() == [(0,)]


def test_on_bad_row_fail_loads_nothing_from_a_file_with_bad_rows(tmp_path):
    from tests.ingest.test_ingest import WEB_LINES, _write_web

    _write_web(tmp_path, WEB_LINES)
    sources = source_paths(tmp_path, web="web.jsonl")
    sources[0]["on_bad_row"] = "fail"
    config = write_config(tmp_path, sources=sources)
    with connect(config.warehouse_path) as con:
        with pytest.raises(SourceError, match="7 bad row\\(s\\).*on_bad_row: fail, so nothing was loaded"):
            ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert con.execute("select count(*) from core.events").fetchall() == [(0,)]


def test_a_commit_that_fails_raises_its_own_error_not_the_rollbacks():
    """A commit that fails leaves no transaction (Ctrl-C during a file's commit did so): the rollback
    that followed raised "no transaction is active" and hid why the commit failed."""
    import duckdb

    con = duckdb.connect()
    con.execute("create table t (id integer primary key)")
    other = con.cursor()
    with pytest.raises(duckdb.TransactionException, match="Failed to commit: PRIMARY KEY"):
        with transaction(con):
            con.execute("insert into t values (1)")
            with transaction(other):  # commits the same key first
                other.execute("insert into t values (1)")
    assert con.execute("select count(*) from t").fetchall() == [(1,)]
