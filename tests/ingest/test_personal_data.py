"""Personal data in what ingest shows of a row: quarantine details that quote a value, JSON-lines keys
written in another case, and the `journey sources check` preview and its memory. Expected values are
written out by hand."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from journey_analytics.ingest import ingest_source
from journey_analytics.ingest.check import check_source
from journey_analytics.warehouse import connect
from tests.helpers import pii_hash, sample_config_dict, source_paths, write_config

NOW = datetime(2026, 9, 1, tzinfo=timezone.utc)
HEADER = "activity_id,occurred_at,activity,contact_id,email,phone,segment,amount\n"


def _with_phone(tmp_path, sources):
    identity = sample_config_dict()["identity"]
    identity["types"].append({"name": "phone", "pii": "phone"})
    return write_config(tmp_path, identity=identity, sources=sources)


def _ingest(config, con):
    (result,) = ingest_source(con, config, config.sources[0], run_id="r1", now=NOW)
    return result


@pytest.mark.parametrize("column, value, shown", [
    ("phone", "+49 170 1234567", "<redacted phone>"),
    ("email", "j.doe at example.com", "<redacted email>"),  # not shaped like an address: no pattern caught it
])
def test_a_timestamp_column_that_feeds_a_personal_identifier_is_not_quoted_in_the_quarantine(tmp_path, column, value, shown):
    """`occurred_at` mapped to the phone column: the detail read `cannot parse +49 170 1234567 as a timestamp`."""
    rows = {"phone": ["k1,,lead_created,ct-1,,{v},smb,", "k2,,lead_created,ct-1,,2027-01-01 10:00:00,smb,"],
            "email": ["k1,,lead_created,ct-1,{v},,smb,", "k2,,lead_created,ct-1,2027-01-01 10:00:00,,smb,"]}[column]
    (tmp_path / "crm.csv").write_text(HEADER + "\n".join(rows).format(v=value) + "\n")
    crm = source_paths(tmp_path, crm="crm.csv")[0]
    crm["columns"]["occurred_at"] = column
    crm["identifiers"] |= {"phone": "phone"}
    config = _with_phone(tmp_path, [crm])
    with connect(config.warehouse_path) as con:
        assert dict(_ingest(config, con).reasons) == {"unparsable_timestamp": 1, "timestamp_in_future": 1}
        quarantined = con.execute("select line, detail, raw_record from ingest.quarantine order by line").fetchall()
    assert [(line, detail) for line, detail, _ in quarantined] == [
        (2, f"cannot parse {shown} as a timestamp (expected ISO-8601: YYYY-MM-DD[THH:MM[:SS[.f]][Z|±HH:MM]])"),
        (3, f"occurred_at {shown} is more than a day after the run"),
    ]
    assert json.loads(quarantined[0][2])[column] == pii_hash(value, column, config.hash_salt)
    assert not any(text in str(quarantined) for text in (value, "1701234567", "2027-01-01"))


def test_a_line_that_is_not_json_is_redacted_of_personal_keys_written_in_any_case(tmp_path):
    """The spec reads `msisdn`; the broken line writes `MSISDN`, which was kept in plain text."""
    web = source_paths(tmp_path, web="web.jsonl")[0]
    web["identifiers"] = {"anonymous_id": "anonymous_id", "email": "user_email", "phone": "msisdn"}
    lines = [
        '{"push_id":"q-2","USER_EMAIL":"a2@b.com","MSISDN":"+15550001002","title":"x',
        '{"push_id":"q-3","\\u004DSISDN":"+15550001003","\\u004dsisdn":"+15550001004","title":"x',  # escaped M
        "{'push_id': 'q-4', 'Msisdn': '+15550001005', Msisdn: +15550001006",
        # keys ended otherwise: Java's Map.toString, Ruby's inspect, a comment before the colon
        "{push_id=q-5, msisdn=+15550001007, title=x}",
        '{"push_id"=>"q-6", "msisdn"=>"+15550001008", "title"=>"x"}',
        '{"push_id": "q-7", "msisdn" /* mobile */ : "+15550001009", "title": "x"',
    ]
    (tmp_path / "web.jsonl").write_text("\n".join(lines) + "\n")
    config = _with_phone(tmp_path, [web])
    with connect(config.warehouse_path) as con:
        assert dict(_ingest(config, con).reasons) == {"malformed_record": 6}
        records = [r[0] for r in con.execute("select raw_record from ingest.quarantine order by line").fetchall()]
    assert records == [
        '{"push_id":"q-2","USER_EMAIL":"<redacted>","MSISDN":"<redacted>","title":"x',
        '{"push_id":"q-3","\\u004DSISDN":"<redacted>","\\u004dsisdn":"<redacted>","title":"x',
        "{'push_id': 'q-4', 'Msisdn': \"<redacted>\"",  # a bare key is no boundary: redacted to the end
        '{push_id=q-5, msisdn="<redacted>"',
        '{"push_id"=>"q-6", "msisdn"=>"<redacted>"',
        '{"push_id": "q-7", "msisdn" /* mobile */ : "<redacted>", "title": "x"',
    ]
    assert not any("555000" in r for r in records)


def test_the_tail_of_a_personal_value_cut_by_a_raw_line_break_is_redacted(tmp_path):
    """A line break inside the phone value split one record into two malformed lines; the second began with the
    rest of the number (`1234567`), which no key preceded, and was kept as written."""
    web = source_paths(tmp_path, web="web.jsonl")[0]
    web["identifiers"] = {"anonymous_id": "anonymous_id", "phone": "msisdn"}
    lines = [
        '{"event_id":"w1","timestamp":"2026-08-03T10:00:00Z","event":"signup","msisdn":"+49 170',
        '1234567","anonymous_id":"a-1"}',
        '{"event_id":"w2","msisdn":"+49 171',
        ' 7654321',  # a value cut twice: its middle line has no key at all
        '", "event":"x"}',
    ]
    (tmp_path / "web.jsonl").write_text("\n".join(lines) + "\n")
    config = _with_phone(tmp_path, [web])
    with connect(config.warehouse_path) as con:
        assert dict(_ingest(config, con).reasons) == {"malformed_record": 5}
        records = [r[0] for r in con.execute("select raw_record from ingest.quarantine order by line").fetchall()]
    assert records == [
        '{"event_id":"w1","timestamp":"2026-08-03T10:00:00Z","event":"signup","msisdn":"<redacted>"',
        '"<redacted>","anonymous_id":"a-1"}',
        '{"event_id":"w2","msisdn":"<redacted>"',
        ' "<redacted>"',
        '"<redacted>", "event":"x"}',  # the value's closing quote: up to the next key, as any line without `{`
    ]


def test_a_line_of_values_without_keys_is_redacted_whole(tmp_path):
    """A JSON array, or values written as a CSV line, has no key to find a personal value by: both lines kept
    +49 170 5550401 in the quarantine and the report's examples."""
    web = source_paths(tmp_path, web="web.jsonl")[0]
    web["identifiers"] = {"anonymous_id": "anonymous_id", "phone": "msisdn"}
    lines = ['["w2","2026-10-01T09:00:00Z","page_view","a2","+49 170 5550401"]',
             '"w3","2026-10-01T09:00:00Z","page_view","a3","+49 170 5550402"']
    (tmp_path / "web.jsonl").write_text("\n".join(lines) + "\n")
    config = _with_phone(tmp_path, [web])
    with connect(config.warehouse_path) as con:
        assert dict(_ingest(config, con).reasons) == {"malformed_record": 2}
        records = [r[0] for r in con.execute("select raw_record from ingest.quarantine order by line").fetchall()]
    assert records == ['"<redacted>"', '"<redacted>"']


def test_a_pretty_printed_record_keeps_its_keyed_lines_and_loses_its_lone_values(tmp_path):
    """A record written over several lines: a line beginning with a key (`"event_id": "w1",`) was redacted whole
    once lines without a `{` were, and a value alone on its line is one no key names."""
    web = source_paths(tmp_path, web="web.jsonl")[0]
    web["identifiers"] = {"anonymous_id": "anonymous_id", "phone": "msisdn"}
    lines = ['{', '  "event_id": "w1",', '  "msisdn": "+49 170 5550401",', '  "other_numbers": [',
             '    "+49 170 5550402",', '  ],', '  "event": "signup"', '}']
    (tmp_path / "web.jsonl").write_text("\n".join(lines) + "\n")
    config = _with_phone(tmp_path, [web])
    with connect(config.warehouse_path) as con:
        _ingest(config, con)
        records = [r[0] for r in con.execute("select raw_record from ingest.quarantine order by line").fetchall()]
    assert records == ['{', '  "event_id": "w1",', '  "msisdn": "<redacted>"', '  "other_numbers": [',
                       '    "<redacted>"', '  "<redacted>"', '  "event": "signup"', '"<redacted>"']


def test_a_json_key_of_the_spec_written_in_another_case_is_read_as_empty_and_noted(tmp_path):
    """`User_Email` for the spec's `user_email`: the identifier was lost without a word."""
    web = source_paths(tmp_path, web="web.jsonl")[0]
    web["identifiers"] = {"anonymous_id": "anonymous_id", "email": "user_email"}
    base = '"timestamp":"2026-08-03T10:00:00Z","event":"signup","anonymous_id":"a-1"'
    lines = [
        '{"event_id":"w1",' + base + ',"User_Email":"r1@b.com"}',
        '{"event_id":"w2",' + base + ',"USER_EMAIL":"r2@b.com"}',
        '{"event_id":"w3",' + base + ',"user\\u005femail":"r3@b.com"}',  # the key as written, escaped: read
        '{"event_id":"w4",' + base + ',"ctx":{"User_Email":"r4@b.com"}}',  # not a top-level key: not the spec's
    ]
    (tmp_path / "web.jsonl").write_text("\n".join(lines) + "\n")
    config = write_config(tmp_path, sources=[web])
    with connect(config.warehouse_path) as con:
        result = _ingest(config, con)
        emails = con.execute("select event_id, id_value from core.event_identifiers where id_type = 'email'").fetchall()
    assert result.rows_loaded == 4 and emails == [("w3", pii_hash("r3@b.com", "email", config.hash_salt))]
    assert result.note == ("key(s) of the spec written only in another case, so read as empty there (JSON keys are "
                           "case-sensitive): user_email as USER_EMAIL, User_Email on 2 line(s)")  # every spelling
    assert result.note == check_source(config, config.sources[0]).files[0].note


def test_the_check_preview_shortens_long_values(tmp_path):
    """A 300 MB property value went to the terminal whole; identifiers were already shortened."""
    row = f"k1,2026-06-01 10:00:00,{'e' * 45},ct-1,Ann@example.com,,{'s' * 1000},12\n"
    (tmp_path / "crm.csv").write_text(HEADER + row)
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="crm.csv"))
    (row,) = check_source(config, config.sources[0]).preview
    assert row["event_name"] == "e" * 39 + "…"
    assert row["properties"] == '{"segment":"' + "s" * 39 + '…","amount":"12"}'
    # a hashed email is 64 characters: its cut is marked, so it does not look like a whole value
    email = pii_hash("ann@example.com", "email", config.hash_salt)
    assert (row["event_id"], row["channel"], row["identifiers"]) == ("k1", "crm", f"contact_id=ct-1 email={email[:11]}…")


def test_the_check_preview_keeps_short_values_and_nulls_as_stored(tmp_path):
    (tmp_path / "crm.csv").write_text(HEADER + f"k1,2026-06-01 10:00:00,lead_created,ct-1,,,{'s' * 40},\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, crm="crm.csv"))
    (row,) = check_source(config, config.sources[0]).preview
    assert (row["event_name"], row["properties"]) == ("lead_created", '{"segment":"' + "s" * 40 + '","amount":null}')


def test_the_check_fails_a_row_too_wide_for_the_memory_a_run_has(tmp_path):
    """The check ran without `memory_limit` and passed a row that the run then refused as too wide."""
    line = {"event_id": "w1", "timestamp": "2026-06-01T10:00:00Z", "event": "x", "anonymous_id": "a", "url": "u"}
    (tmp_path / "web.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(line | {"url": "y" * 20_000_000}) + "\n")
    config = write_config(tmp_path, sources=source_paths(tmp_path, web="web.jsonl"), memory_limit="256MB")
    result = check_source(config, config.sources[0])
    assert result.error and result.error.startswith(
        "web.jsonl: the rows from line 2 (about 20.0 MB each) are too wide to load within 256MB of memory")
