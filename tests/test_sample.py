"""The sample generator: deterministic, committed sample up to date, and its ground truth honest.

The checks re-read the raw files with the stdlib (json, csv, datetime, zoneinfo) instead of trusting the
generator's own Polars code, so a formatting bug cannot hide behind the same bug in the check.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from journey_analytics import sample

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "sample"
START = sample.DEFAULT_START
END = START + timedelta(days=120)
BERLIN = ZoneInfo("Europe/Berlin")
SPEC = {  # source -> (file, id column, time column, name column, identifier columns)
    "web": ("clickstream/events.jsonl", "event_id", "timestamp", "event", ("anonymous_id", "user_id", "email")),
    "crm": ("crm/activities.csv", "activity_id", "occurred_at", "activity", ("contact_id", "email")),
    "service": ("service/interactions.csv", "interaction_id", "created_at", "interaction", ("requester_email",)),
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> tuple[Path, sample.SampleSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, sample.generate(out)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read_lines(root: Path, source: str) -> list[tuple[int, str, dict]]:
    """(physical line, raw text, parsed record) for every data row, read with the stdlib only."""
    path, header = root / SPEC[source][0], None
    rows = []
    for line_no, text in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not text:
            continue
        if source == "web":
            rows.append((line_no, text, json.loads(text)))
        elif header is None:
            header = next(csv.reader([text]))
        else:
            rows.append((line_no, text, dict(zip(header, next(csv.reader([text])), strict=True))))
    return rows


def _parse_time(source: str, value: str) -> datetime:
    """The UTC instant of a raw timestamp; raises ValueError when it is not a valid one."""
    if source == "crm":
        naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        early, late = naive.replace(tzinfo=BERLIN, fold=0), naive.replace(tzinfo=BERLIN, fold=1)
        if early.utcoffset() != late.utcoffset():
            raise AssertionError(f"ambiguous Berlin local time {value!r} in a good CRM row")
        return early.astimezone(UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"no offset in {value!r}")
    return parsed.astimezone(UTC)


def _is_unparsable(source: str, value) -> bool:
    try:
        _parse_time(source, value)
    except ValueError:
        return True
    return False


def test_same_seed_gives_byte_identical_files(fresh, tmp_path):
    again = sample.generate(tmp_path)
    assert _files(tmp_path) == _files(fresh[0])
    assert again == fresh[1]
    other = sample.generate(tmp_path / "other", seed=8)
    assert _files(tmp_path / "other")["crm/activities.csv"] != _files(tmp_path)["crm/activities.csv"]
    assert other.persons == 2500


def test_committed_sample_matches_the_generator(fresh):
    committed, generated = _files(COMMITTED), _files(fresh[0])
    hint = "data/sample drifted: run `uv run python -m journey_analytics.sample data/sample`"
    assert sorted(committed) == sorted(generated), hint
    assert all(committed[name] == generated[name] for name in generated), hint
    assert sum(len(b) for b in committed.values()) < 4_200_000


def test_summary_counts_match_the_files(fresh):
    root, summary = fresh
    truth = pl.read_parquet(root / "ground_truth/events.parquet")
    assert summary.events == {s: truth.filter(pl.col("source") == s).height for s in sample.SOURCES}
    assert summary.persons == truth["person_id"].n_unique() == 2500
    for source, (file, *_) in SPEC.items():
        assert summary.files[file] == len(_read_lines(root, source))
    assert 14_000 < summary.total_events < 30_000


@pytest.mark.parametrize("source", list(SPEC))
def test_bad_rows_are_exactly_the_listed_lines(fresh, source):
    root = fresh[0]
    file, id_col, ts_col, name_col, identifiers = SPEC[source]
    listed = pl.read_csv(root / "ground_truth/bad_rows.csv", infer_schema=False).filter(pl.col("source") == source)
    assert set(listed["file"]) == {file}
    expected = {int(line): (reason, event_id)
                for line, reason, event_id in listed.select("line", "expected", "event_id").rows()}
    counts = Counter(reason for reason, _ in expected.values())
    assert set(counts) == set(sample.BAD_REASONS) and all(10 <= n <= 20 for n in counts.values()), counts

    seen: dict[str, tuple[int, str]] = {}  # event id -> (line, raw text) of its first occurrence
    good_ids = []
    for line, text, row in _read_lines(root, source):
        event_id, ts, name = row.get(id_col), row.get(ts_col), row.get(name_col)
        reason, listed_id = expected.pop(line, (None, None))
        assert listed_id in (None, event_id), (line, listed_id, event_id)
        first = seen.setdefault(event_id, (line, text))
        if reason == "deduplicated":
            assert first[0] < line and first[1] == text, line
        elif reason == "duplicate_event_id":
            assert first[0] < line and first[1] != text, line
        else:
            assert first[0] == line, f"event id {event_id} repeated at line {line} but not listed"
        if reason == "unparsable_timestamp":
            assert ts and _is_unparsable(source, ts), (line, ts)
        elif reason == "missing_required_field":
            assert not ts or not name, line
        elif reason == "missing_identifier":
            assert not any(row.get(c) for c in identifiers), line
        elif reason == "timestamp_in_future":
            assert ts.startswith("2099-") and _parse_time(source, ts).year == 2099, line
        elif reason is None:  # a good row: loadable, identified, inside the window
            assert ts and name and any(row.get(c) for c in identifiers), line
            assert START <= _parse_time(source, ts) < END, (line, ts)
            good_ids.append(event_id)
    assert not expected, f"listed lines not in the file: {sorted(expected)}"

    truth = pl.read_parquet(root / "ground_truth/events.parquet").filter(pl.col("source") == source)
    assert sorted(good_ids) == sorted(truth["event_id"]), "ground truth must list every good row exactly once"


@pytest.mark.parametrize("source", list(SPEC))
def test_ground_truth_times_and_stages_match_the_raw_rows(fresh, source):
    root = fresh[0]
    _, id_col, ts_col, name_col, _ = SPEC[source]
    truth = pl.read_parquet(root / "ground_truth/events.parquet").filter(pl.col("source") == source)
    by_id = {r["event_id"]: r for r in truth.iter_rows(named=True)}
    bad = set(pl.read_csv(root / "ground_truth/bad_rows.csv", infer_schema=False)
              .filter(pl.col("source") == source)["line"].cast(pl.Int64))
    for line, _, row in _read_lines(root, source):
        if line in bad:
            continue
        gt = by_id[row[id_col]]
        assert _parse_time(source, row[ts_col]) == gt["occurred_at"], (line, row[ts_col], gt["occurred_at"])
        assert gt["event_name"] == row[name_col] and gt["true_stage"] == sample.TRUE_STAGE[row[name_col]]
    assert set(truth["true_stage"]) <= set(sample.STAGE_EVENTS)


def test_every_crm_or_service_person_signed_up_on_the_web(fresh):
    root = fresh[0]
    truth = pl.read_parquet(root / "ground_truth/events.parquet")
    person_of = dict(zip(truth["event_id"], truth["person_id"], strict=True))
    listed = pl.read_csv(root / "ground_truth/bad_rows.csv", infer_schema=False)
    bad = {(s, int(line)) for s, line in listed.select("source", "line").rows()}
    signups = defaultdict(set)  # person -> normalised emails they signed up with
    for line, _, row in _read_lines(root, "web"):
        if row["event"] == "signup" and ("web", line) not in bad:
            assert row["anonymous_id"] and row["user_id"] and row["email"], row
            signups[person_of[row["event_id"]]].add(row["email"].strip().lower())
    needing = 0
    for source, column in (("crm", "email"), ("service", "requester_email")):
        for line, _, row in _read_lines(root, source):
            event_id = row[SPEC[source][1]]
            if (source, line) in bad:
                continue
            person = person_of[event_id]
            assert row[column].strip().lower() in signups[person], (source, event_id, row[column])
            needing += 1
    assert needing > 1000
    # Messy raw emails really occur in the CRM, and normalise to the web signup email.
    assert any(r["email"] != r["email"].strip().lower() for _, _, r in _read_lines(root, "crm"))


def test_persons_ground_truth_is_a_partition_without_the_kiosk(fresh):
    root = fresh[0]
    persons = pl.read_parquet(root / "ground_truth/persons.parquet")
    assert persons.select("id_type", "id_value").is_duplicated().sum() == 0, "an identifier names two persons"
    assert sample.KIOSK_COOKIE not in set(persons["id_value"])
    assert set(persons["id_type"]) == {"anonymous_id", "user_id", "email", "contact_id"}
    emails = persons.filter(pl.col("id_type") == "email")["id_value"]
    assert (emails == emails.str.strip_chars().str.to_lowercase()).all()
    cookies = persons.filter(pl.col("id_type") == "anonymous_id").group_by("person_id").len()
    assert cookies.filter(pl.col("len") == 2).height > 50, "some people use two devices"

    web = [row for _, _, row in _read_lines(root, "web")]
    kiosk = [row for row in web if row["anonymous_id"] == sample.KIOSK_COOKIE]
    assert all(row["user_id"] for row in kiosk)
    assert len({row["user_id"] for row in kiosk}) == sample.KIOSK_USERS > 25  # identity.max_links
    anonymous_only = {row["anonymous_id"] for row in web if not row["user_id"]}
    assert sample.KIOSK_COOKIE not in anonymous_only


def test_journeys_are_realistic(fresh):
    truth = pl.read_parquet(fresh[0] / "ground_truth/events.parquet")
    assert START <= truth["occurred_at"].min() and truth["occurred_at"].max() < END
    reach = {s: truth.filter(pl.col("true_stage") == s)["person_id"].n_unique() / 2500 for s in sample.STAGE_EVENTS}
    assert reach["awareness"] == 1 and 0.5 < reach["consideration"] < 0.65 and 0.2 < reach["purchase"] < 0.33
    assert 0.03 < reach["advocacy"] < reach["post_purchase"] < reach["purchase"]
    first = truth.group_by("person_id").agg(
        aware=pl.col("occurred_at").filter(pl.col("true_stage") == "awareness").min(),
        bought=pl.col("occurred_at").filter(pl.col("true_stage") == "purchase").min())
    assert first.filter(pl.col("bought") - pl.col("aware") > timedelta(days=30)).height > 10
    ordered = truth.sort("person_id", "occurred_at").with_columns(
        after_service=(pl.col("true_stage") == "post_purchase").cum_max().over("person_id"))
    assert ordered.filter(pl.col("after_service") & (pl.col("true_stage") == "consideration")).height > 20
    ads = truth.filter(pl.col("event_name") == "ad_click").group_by("person_id").len()
    assert ads.filter(pl.col("len") > 1).height > 20, "second attempts start with a new ad click"
    shared = truth.group_by("occurred_at").agg(pl.col("person_id").n_unique().alias("persons"))
    assert shared.filter(pl.col("persons") > 1).height >= 3, "ties between different persons"
    cross = truth.group_by("person_id", "occurred_at").agg(pl.col("source").n_unique().alias("sources"))
    assert cross.filter(pl.col("sources") > 1).height >= 3, "ties across sources for one person"


def test_stream_mode_writes_parts_of_bounded_size(tmp_path):
    summary = sample.generate_stream(tmp_path, events=200_000, chunk_customers=10_000)
    assert abs(summary.total_events - 200_000) / 200_000 < 0.02
    parts = sorted((tmp_path / "clickstream").glob("part-*.jsonl"))
    assert len(parts) >= 3 and not (tmp_path / "ground_truth").exists()
    rows = summary.files
    for source in ("clickstream", "crm", "service"):
        counted = sum(sum(1 for _ in p.open()) for p in (tmp_path / source).iterdir())
        header = source != "clickstream"
        assert counted == sum(n + header for name, n in rows.items() if name.startswith(source))
    assert max(rows.values()) < 10_000 * 12, "one part holds one chunk of people"
    bad = sum(summary.bad_rows.values())
    assert sum(rows.values()) == summary.total_events + bad
    ids = [set(pl.read_ndjson(p, schema={"event_id": pl.String})["event_id"]) for p in parts]
    assert sum(map(len, ids)) == len(set().union(*ids)), "event ids are unique across chunks"


def _peak_rss_mb(tmp_path: Path, events: int) -> float:
    code = ("import resource, sys; from journey_analytics.sample import generate_stream; "
            f"generate_stream(sys.argv[1], events={events}, chunk_customers=5000); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / str(events))],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def test_stream_mode_memory_does_not_grow_with_size(tmp_path):
    small, large = _peak_rss_mb(tmp_path, 40_000), _peak_rss_mb(tmp_path, 400_000)
    assert large < small * 1.25 + 30, (small, large)


def test_cli_writes_a_stream_and_reports_the_rate(tmp_path, capsys):
    sample.main([str(tmp_path), "--events", "20000", "--seed", "3", "--no-bad-rows"])
    printed = capsys.readouterr().out
    assert "events/s" in printed and (tmp_path / "crm/part-00001.csv").is_file()
    assert not (tmp_path / "ground_truth").exists()


@pytest.mark.parametrize("args, expected", [
    (["--customers", "0"], "argument --customers: 0 is not >= 1"),  # wrote the default 2,500 persons
    (["--days", "-1"], "argument --days: -1 is not >= 1"),  # wrote an empty sample and exited 0
    (["--events", "1e6"], "argument --events: '1e6' is not a whole number"),
])
def test_cli_refuses_sizes_below_one_and_writes_nothing(tmp_path, capsys, args, expected):
    with pytest.raises(SystemExit) as done:
        sample.main([str(tmp_path / "out"), *args])
    assert done.value.code == 2 and expected in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
