"""Ingest against small hand-written files whose every outcome is known line by line."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from journey_analytics.cli import main
from journey_analytics.config import memory_bytes
from journey_analytics.ingest import INGEST_MEMORY, WRITING_SECONDS, ingest_source
from journey_analytics.ingest.check import check_source
from journey_analytics.ingest.reset import reset_source
from journey_analytics.sources.mapping import spec_fingerprint
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect
from tests.helpers import pii_hash, source_paths, write_config

NOW = datetime(2026, 9, 1, tzinfo=timezone.utc)
RAW_EMAIL = "Bob.Raw@Example.com"

WEB_LINES = [
    # line 1: loaded (cpc → paid_search)
    {"event_id": "c-1", "timestamp": "2026-08-03T10:15:02.123Z", "anonymous_id": "a-1", "event": "ad_click", "utm_medium": "cpc"},
    # line 2: loaded; +02:00 offset is the same instant as 10:15:02Z; email is hashed
    {"event_id": "c-2", "timestamp": "2026-08-03T12:15:02+02:00", "anonymous_id": "a-1", "user_id": "u-1",
     "email": f"  {RAW_EMAIL} ", "event": "signup", "referrer": "https://www.google.com/"},
    None,  # line 3: not JSON → malformed_record
    {"event_id": "c-3", "timestamp": "yesterday", "anonymous_id": "a-1", "event": "pricing_view"},  # line 4
    {"event_id": "c-4", "timestamp": "2026-08-03T10:15:02Z", "event": "pricing_view"},  # line 5: no identifier
    # line 6: exact repeat of line 2 → deduplicated
    {"event_id": "c-2", "timestamp": "2026-08-03T12:15:02+02:00", "anonymous_id": "a-1", "user_id": "u-1",
     "email": f"  {RAW_EMAIL} ", "event": "signup", "referrer": "https://www.google.com/"},
    # line 7: event_id c-2 again with another time → duplicate_event_id
    {"event_id": "c-2", "timestamp": "2026-08-03T12:15:03+02:00", "anonymous_id": "a-1", "event": "signup"},
    {"event_id": "c-5", "timestamp": "2099-08-03T10:15:02Z", "anonymous_id": "a-1", "event": "pricing_view"},  # line 8
    {"event_id": "c-6", "timestamp": "", "anonymous_id": "a-1", "event": "pricing_view"},  # line 9
    {"event_id": "c-7", "timestamp": "2026-08-03T10:15:02Z", "anonymous_id": "a-1", "event": " "},  # line 10
]
EXPECTED_WEB = {
    3: "malformed_record", 4: "unparsable_timestamp", 5: "missing_identifier", 7: "duplicate_event_id",
    8: "timestamp_in_future", 9: "missing_required_field", 10: "missing_required_field",
}

CRM_CSV = """activity_id,occurred_at,activity,contact_id,email,lead_source,segment,amount
k1,2026-08-03 12:15:02,lead_created,ct-1,bob.raw@example.com,webinar,smb,
k2,2026-01-15 09:00:00,order_placed,ct-1,,,smb,100
k3,not a time,order_placed,ct-1,,,smb,100
"""


def _write_web(folder: Path, lines) -> Path:
    path = folder / "web.jsonl"
    path.write_text("".join((json.dumps(l) if l else "{bad json " + RAW_EMAIL) + "\n" for l in lines))
    return path


@pytest.fixture
def setup(tmp_path):
    _write_web(tmp_path, WEB_LINES)
    (tmp_path / "crm.csv").write_text(CRM_CSV)
    config = write_config(tmp_path, sources=source_paths(tmp_path, web="web.jsonl", crm="crm.csv"))
    con = connect(config.warehouse_path)
    yield config, con
    con.close()


def _ingest_all(config, con, run_id="r1"):
    return [r for s in config.sources for r in ingest_source(con, config, s, run_id=run_id, now=NOW)]


def test_ingest_caps_duckdb_memory_and_restores_the_configured_limit(tmp_path):
    _write_web(tmp_path, WEB_LINES)
    config = write_config(tmp_path, sources=source_paths(tmp_path, web="web.jsonl"), memory_limit="3GB")
    con = connect(config.warehouse_path, memory_limit=config.memory_limit)
    limit = lambda: memory_bytes(con.execute("select current_setting('memory_limit')").fetchall()[0][0])  # noqa: E731
    during = []
    ingest_source(con, config, config.sources[0], run_id="r1", now=NOW, on_file=lambda r: during.append(limit()))
    assert during and all(n <= memory_bytes(INGEST_MEMORY) for n in during)
    assert abs(limit() - 3 * 10**9) < 0.05 * 3 * 10**9
    con.close()


def test_every_row_is_loaded_deduplicated_or_quarantined_with_its_reason(setup):
    config, con = setup
    web, crm = _ingest_all(config, con)
    assert (web.rows_read, web.rows_loaded, web.rows_deduplicated, web.rows_quarantined) == (10, 2, 1, 7)
    assert (crm.rows_read, crm.rows_loaded, crm.rows_deduplicated, crm.rows_quarantined) == (3, 2, 0, 1)
    quarantined = dict(con.execute("select line, reason from ingest.quarantine where source = 'web'").fetchall())
    assert quarantined == EXPECTED_WEB
    assert con.execute("select line, reason from ingest.quarantine where source = 'crm'").fetchall() == [
        (4, "unparsable_timestamp")]
    manifest = con.execute("select source, rows_read, rows_loaded, rows_deduplicated, rows_quarantined "
                           "from ingest.manifest order by source").fetchall()
    assert manifest == [("crm", 3, 2, 0, 1), ("web", 10, 2, 1, 7)]


def test_times_are_utc_and_naive_times_use_the_declared_zone(setup):
    config, con = setup
    _ingest_all(config, con)
    rows = dict(con.execute("select event_id, occurred_at from core.events").fetchall())
    assert rows["c-1"] == datetime(2026, 8, 3, 10, 15, 2, 123000, tzinfo=timezone.utc)
    assert rows["c-2"] == datetime(2026, 8, 3, 10, 15, 2, tzinfo=timezone.utc)
    assert rows["k1"] == datetime(2026, 8, 3, 10, 15, 2, tzinfo=timezone.utc)  # Berlin summer: UTC+2
    assert rows["k2"] == datetime(2026, 1, 15, 8, 0, 0, tzinfo=timezone.utc)  # Berlin winter: UTC+1


def test_channel_is_derived_from_the_declared_cases(setup):
    config, con = setup
    _ingest_all(config, con)
    channels = dict(con.execute("select event_id, channel from core.events").fetchall())
    assert channels == {"c-1": "paid_search", "c-2": "organic_search", "k1": "webinar", "k2": "crm"}


def test_emails_are_normalised_and_hashed_and_never_stored_raw(setup):
    config, con = setup
    _ingest_all(config, con)
    emails = {r[0] for r in con.execute("select id_value from core.event_identifiers where id_type = 'email'").fetchall()}
    assert emails == {pii_hash("bob.raw@example.com", "email", config.hash_salt)}
    con.execute(f"export database '{config.base_dir / 'dump'}' (format csv)")
    dumped = "".join(p.read_text() for p in (config.base_dir / "dump").glob("*.csv")).lower()
    assert "bob.raw" not in dumped and "example.com" not in dumped


def test_an_email_in_an_event_name_or_a_channel_taken_from_a_column_is_redacted(tmp_path):
    """`lead_source` (the CRM's channel) and `activity` (its event name) are no identifiers, so an address
    written there was stored as it was and reached the report's breakdowns."""
    (tmp_path / "crm.csv").write_text(
        "activity_id,occurred_at,activity,contact_id,email,lead_source,segment,amount\n"
        "k1,2026-08-03 12:15:02,newsletter:Ann.Lee@example.org,ct-1,,referral from bob%40example.com,smb,\n"
        "k2,2026-08-03 12:16:02,lead_created,ct-1,,webinar,smb,\n"
        "k3,2026-08-03 12:17:02,click@header,ct-1,,partner@eu,smb,\n"  # names, not addresses: kept
        "k4,2026-08-03 12:18:02,signup alice＠example.com,ct-1,,﹫ bob﹫example.com,smb,\n")  # full-width, small @
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="crm.csv"))
    with connect(config.warehouse_path) as con:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        rows = con.execute("select event_id, event_name, channel from core.events order by event_id").fetchall()
    assert rows == [("k1", "newsletter:<redacted email>", "referral from <redacted email>"),
                    ("k2", "lead_created", "webinar"), ("k3", "click@header", "partner@eu"),
                    ("k4", "signup <redacted email>", "﹫ <redacted email>")]


def test_reading_the_same_files_again_adds_nothing(setup):
    config, con = setup
    _ingest_all(config, con)
    before = con.execute("select * from core.events order by all").fetchall()
    again = _ingest_all(config, con, run_id="r2")
    assert all(r.skipped for r in again)
    assert con.execute("select * from core.events order by all").fetchall() == before


def test_a_file_gone_since_it_was_read_is_named_with_the_rows_that_stay_and_reset_removes_them(tmp_path):
    """A deleted file's events stayed in every number with no word about it."""
    (tmp_path / "web-1.jsonl").write_text("".join(json.dumps(line) + "\n" for line in WEB_LINES[:2]))
    later = {"event_id": "c-9", "timestamp": "2026-08-04T10:00:00Z", "anonymous_id": "a-2", "event": "blog_view"}
    (tmp_path / "web-2.jsonl").write_text(json.dumps(later) + "\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, web="web-*.jsonl"))
    with connect(config.warehouse_path) as con:
        assert [r.rows_loaded for r in ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)] == [2, 1]
        (tmp_path / "web-2.jsonl").unlink()
        kept, gone = ingest_source(con, config, config.sources[0], run_id="r2", now=NOW)
        assert (kept.path, kept.skipped, kept.gone) == ("web-1.jsonl", True, False)
        assert (gone.path, gone.skipped, gone.gone, gone.rows_read) == ("web-2.jsonl", True, True, 0)
        assert gone.note == ("gone since run r1 read it: its 1 loaded row(s) stay in the warehouse; restore the file, "
                             "or `journey sources reset web --force` removes them (and reads the source's files again)")
        assert con.execute("select count(*) from core.events").fetchall() == [(3,)]
    checked = check_source(config, config.sources[0]).files  # `journey sources check` says so too
    assert [(f.path, f.gone, f.note) for f in checked] == [("web-1.jsonl", False, ""), ("web-2.jsonl", True, gone.note)]
    with connect(config.warehouse_path) as con:
        reset_source(con, config, config.sources[0], force=True)
        assert [r.gone for r in ingest_source(con, config, config.sources[0], run_id="r3", now=NOW)] == [False]
        assert con.execute("select event_id from core.events order by 1").fetchall() == [("c-1",), ("c-2",)]


def test_a_changed_file_loads_only_its_new_rows(setup, tmp_path):
    config, con = setup
    _ingest_all(config, con)
    extra = {"event_id": "c-9", "timestamp": "2026-08-04T10:00:00Z", "anonymous_id": "a-2", "event": "blog_view"}
    _write_web(tmp_path, WEB_LINES + [extra])
    (web,) = ingest_source(con, config, config.sources[0], run_id="r2", now=NOW)
    assert (web.rows_read, web.rows_loaded) == (11, 1)
    # lines 1, 2 were loaded before; line 6 repeats line 2; the 7 bad lines were quarantined before
    assert (web.rows_deduplicated, web.rows_quarantined) == (10, 0)
    assert con.execute("select count(*) from core.events").fetchall()[0][0] == 5


def test_a_warehouse_with_hex_row_md5_is_migrated_and_its_rows_still_deduplicate(setup):
    """Warehouses written before row_md5 became a number held md5() as hex text; opening one converts
    it, and reading the same rows again still finds them equal (deduplicated, not conflicting)."""
    config, con = setup
    _ingest_all(config, con)
    numbers = con.execute("select event_id, row_md5 from core.events order by event_id").fetchall()
    # the old form, from Python: md5_number is md5's 16 bytes read little-endian (checked on a known digest)
    digest = con.execute("select md5_number('journey')").fetchall()[0][0]
    assert digest.to_bytes(16, "little").hex() == hashlib.md5(b"journey").hexdigest()
    con.execute("alter table core.events alter column row_md5 set data type varchar")
    con.executemany("update core.events set row_md5 = ? where event_id = ?",
                    [(n.to_bytes(16, "little").hex(), event_id) for event_id, n in numbers])
    con.execute("delete from ingest.manifest; delete from ingest.quarantine")  # read every file again, as new
    con.execute("alter table ingest.manifest drop column spec_sha256")  # not kept then either
    con.close()

    # `sources check` reads such a warehouse without writing to it, and sees the rows as already loaded
    (web,) = check_source(config, config.sources[0]).files
    assert (web.rows_loaded, web.rows_deduplicated) == (0, 3)  # lines 1, 2 loaded before; line 6 repeats 2
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    assert con.execute("select typeof(row_md5) from core.events limit 1").fetchall() == [("VARCHAR",)]
    con.close()

    con = connect(config.warehouse_path)
    assert con.execute("select event_id, row_md5 from core.events order by event_id").fetchall() == numbers
    again = [r for s in config.sources for r in ingest_source(con, config, s, run_id="r2", now=NOW)]
    assert sum(r.rows_loaded for r in again) == 0
    assert sum(r.rows_deduplicated for r in again) == len(numbers) + 1  # line 6 repeats line 2
    reasons = dict(con.execute("select reason, count(*) from ingest.quarantine where run_id = 'r2' group by all").fetchall())
    assert "duplicate_event_id" in reasons and reasons["duplicate_event_id"] == 1  # line 7 only, as in run r1
    con.close()


def test_a_spec_change_is_noted_and_reset_has_the_next_run_read_the_source_again(setup, tmp_path, capsys):
    config, con = setup
    _ingest_all(config, con)
    channel = "select event_id, channel from core.events where source = 'web' order by event_id"
    assert con.execute(channel).fetchall() == [("c-1", "paid_search"), ("c-2", "organic_search")]
    # the data engineer renames a channel: files already read are skipped, and the run says why nothing changed
    sources = source_paths(tmp_path, web="web.jsonl", crm="crm.csv")
    sources[0]["derive"]["channel"][0]["then"] = "search_ads"
    config = write_config(tmp_path, sources=sources)
    web, crm = _ingest_all(config, con, run_id="r2")
    assert web.skipped and "earlier spec of source 'web'" in web.note and "journey sources reset web" in web.note
    assert crm.skipped and crm.note == ""
    assert con.execute(channel).fetchall() == [("c-1", "paid_search"), ("c-2", "organic_search")]
    # the file grows: read again under the new spec, its known rows conflict, and the note says why
    extra = {"event_id": "c-9", "timestamp": "2026-08-04T10:00:00Z", "anonymous_id": "a-2", "event": "ad_click",
             "utm_medium": "cpc"}
    _write_web(tmp_path, WEB_LINES + [extra])
    (web,) = ingest_source(con, config, config.sources[0], run_id="r2b", now=NOW)
    # c-1 remapped; line 7's conflict, the same as in the first read, is not quarantined again
    assert (web.rows_loaded, dict(web.reasons)["duplicate_event_id"]) == (1, 1)
    assert "earlier spec of source 'web'" in web.note
    (web,) = ingest_source(con, config, config.sources[0], run_id="r2c", now=NOW)  # until a reset, every run says so
    assert web.skipped and "earlier spec of source 'web'" in web.note
    con.close()
    # sources check judges the new spec as a run after a reset would read it, not against rows mapped before
    checked = check_source(config, config.sources[0])
    (web,) = checked.files
    assert checked.after_reset and (web.rows_loaded, web.rows_deduplicated, web.rows_quarantined) == (3, 1, 7)

    path = str(config.base_dir / "journey.yaml")
    with connect(config.warehouse_path) as con:
        (quarantined,) = con.execute("select count(*) from ingest.quarantine where source = 'web'").fetchone()
    assert main(["sources", "reset", "web", "--config", path]) == 0
    assert f"removed 3 events and {quarantined} quarantined rows read from 1 file(s)" in capsys.readouterr().out
    assert quarantined > 0
    con = connect(config.warehouse_path)
    assert con.execute("select count(*) from ingest.manifest where source = 'web'").fetchall() == [(0,)]
    assert con.execute("select count(*) from ingest.quarantine where source = 'web'").fetchall() == [(0,)]
    assert con.execute("select count(*) from core.event_identifiers where source = 'web'").fetchall() == [(0,)]
    assert con.execute("select count(*) from core.events where source = 'crm'").fetchall() == [(2,)]  # untouched
    web, crm = _ingest_all(config, con, run_id="r3")
    assert (web.rows_loaded, web.rows_deduplicated, web.rows_quarantined, web.note) == (3, 1, 7, "")
    assert crm.skipped
    assert con.execute(channel).fetchall() == [("c-1", "search_ads"), ("c-2", "organic_search"), ("c-9", "search_ads")]
    con.close()


def test_files_read_before_fingerprints_were_kept_take_the_spec_of_the_next_run(setup, tmp_path):
    config, con = setup
    _ingest_all(config, con)
    con.execute("update ingest.manifest set spec_sha256 = null")  # as an upgraded warehouse has them
    assert all(r.skipped and not r.note for r in _ingest_all(config, con, run_id="r2"))
    sources = source_paths(tmp_path, web="web.jsonl", crm="crm.csv")
    sources[0]["properties"] = []
    config = write_config(tmp_path, sources=sources)
    web, crm = _ingest_all(config, con, run_id="r3")
    assert "earlier spec of source 'web'" in web.note and not crm.note


def test_the_spec_fingerprint_follows_what_decides_the_stored_rows(tmp_path, monkeypatch):
    def fingerprint(**overrides):
        sources = source_paths(tmp_path, web="web.jsonl")
        sources[0].update(overrides)
        config = write_config(tmp_path, sources=sources)
        return spec_fingerprint(config.sources[0], config)

    base = fingerprint()
    assert fingerprint(path="./web.jsonl") == base  # where the data lives is not how it is mapped
    assert fingerprint(on_bad_row="fail") == base
    identifiers = source_paths(tmp_path, web="web.jsonl")[0]["identifiers"]
    assert fingerprint(identifiers=dict(reversed(identifiers.items()))) != base  # row_md5 lists them in order
    assert fingerprint(properties=["page"]) != base
    monkeypatch.setenv("JOURNEY_HASH_SALT", "another salt, rotated")
    assert fingerprint() != base  # every hashed identifier changes


@pytest.mark.parametrize("change", ["deleted", "rewritten", "last_line_extended", "no_longer_matched"])
def test_reset_refuses_when_reading_again_might_not_bring_rows_back_unless_forced(setup, tmp_path, capsys, change):
    config, con = setup
    _ingest_all(config, con)
    con.close()
    web = tmp_path / "web.jsonl"
    if change == "deleted":
        web.unlink()
    elif change == "rewritten":  # an export overwritten in place, larger: line 1's event is in no file any more
        _write_web(tmp_path, [WEB_LINES[0] | {"event": "ad_clicked"}] + WEB_LINES[1:])
    elif change == "last_line_extended":  # the first bytes are the file read, but its unterminated last line grew
        web.write_text(web.read_text().rstrip("\n"))
        os.utime(web, (time.time() - WRITING_SECONDS,) * 2)  # unchanged for a while: not taken as being written
        con = connect(config.warehouse_path)
        con.execute("delete from core.event_identifiers; delete from core.events; delete from ingest.manifest")
        _ingest_all(config, con, run_id="r2")
        con.close()
        web.write_text(web.read_text() + '"}\n')
    else:  # the file is still there, but `path` now names another one (other bytes: a copy brings the rows back)
        (tmp_path / "web2.jsonl").write_text(web.read_text().splitlines(keepends=True)[0])
        config = write_config(tmp_path, sources=source_paths(tmp_path, web="web2.jsonl", crm="crm.csv"))
    path = str(config.base_dir / "journey.yaml")
    assert main(["sources", "reset", "web", "--config", path]) == 2
    err = capsys.readouterr().err
    changed = change in ("rewritten", "last_line_extended")
    assert "web.jsonl" in err and ("changed since a version of them was read" if changed else "gone or no longer match") in err
    con = connect(config.warehouse_path)
    assert con.execute("select count(*) from core.events where source = 'web'").fetchall() == [(2,)]
    con.close()
    assert main(["sources", "reset", "web", "--force", "--config", path]) == 0
    assert "forced although 1 file(s)" in capsys.readouterr().out


def test_a_database_source_is_reset_only_when_forced(tmp_path):
    db = {"name": "db", "kind": "crm", "format": "postgres", "uri": "postgresql://nobody@127.0.0.1:9/none",
          "table": "public.activities", "columns": {"event_id": "id", "occurred_at": "at", "event_name": "what"},
          "identifiers": {"contact_id": "contact"}}
    config = write_config(tmp_path, sources=[db])
    con = connect(config.warehouse_path)
    assert reset_source(con, config, config.sources[0]).files == 0  # nothing read yet: nothing at risk
    con.execute("insert into ingest.manifest values ('r1', 'db', 'postgres:public.activities', null, 'x', "
                "0, 0, 0, 0, now(), null, null)")
    with pytest.raises(SourceError, match="database source: rows deleted from its table") as err:
        reset_source(con, config, config.sources[0])
    # a database has no files to restore or `path` to fix: the advice said so anyway
    assert str(err.value).endswith("If its table still holds every row it had, pass --force.")
    assert reset_source(con, config, config.sources[0], force=True).files == 1
    con.close()


def test_a_missing_required_column_fails_the_source_and_loads_nothing(tmp_path):
    (tmp_path / "crm.csv").write_text("activity_id,occurred_at,contact_id\nk1,2026-08-03 12:15:02,ct-1\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="crm.csv"))
    con = connect(config.warehouse_path)
    with pytest.raises(SourceError, match=r"crm.csv: required column\(s\) activity, email not found"):
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    assert con.execute("select count(*) from ingest.manifest").fetchall()[0][0] == 0


def test_naive_timestamps_without_a_declared_zone_are_a_spec_error(tmp_path):
    (tmp_path / "crm.csv").write_text(CRM_CSV)
    sources = source_paths(tmp_path, crm="crm.csv")
    del sources[0]["timezone"]
    config = write_config(tmp_path, sources=sources)
    con = connect(config.warehouse_path)
    with pytest.raises(SourceError, match=r"no UTC offset \(first at line 2\).*Add `timezone:"):
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    assert con.execute("select count(*) from core.events").fetchall()[0][0] == 0


def test_a_path_matching_no_file_is_a_clear_error(tmp_path):
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="nowhere/*.csv"))
    with connect(config.warehouse_path) as con, pytest.raises(SourceError, match="no file matches 'nowhere/\\*.csv'"):
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)


def test_a_path_naming_a_folder_says_to_name_its_files(tmp_path):
    (tmp_path / "exports").mkdir()
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="exports"))
    with connect(config.warehouse_path) as con, pytest.raises(SourceError, match="It is a folder: name its files, "
                                                              r"e.g. `exports/\*.csv`"):
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)


def test_a_path_may_start_at_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "exports").mkdir(parents=True)
    (tmp_path / "home" / "exports" / "crm.csv").write_text(CRM_CSV)
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="~/exports/*.csv"))
    assert config.resolve("~/exports") == tmp_path / "home" / "exports"
    with connect(config.warehouse_path) as con:
        ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
        assert con.execute("select count(*) from core.events").fetchall()[0][0] > 0


def test_the_quarantine_keeps_the_raw_record_with_personal_data_hashed(setup):
    config, con = setup
    _ingest_all(config, con)
    records = [r[0] for r in con.execute("select raw_record from ingest.quarantine").fetchall()]
    assert all(RAW_EMAIL.lower() not in r.lower() for r in records)
    malformed = con.execute("select raw_record from ingest.quarantine where reason = 'malformed_record'").fetchall()
    assert malformed == [("{bad json <redacted email>",)]
