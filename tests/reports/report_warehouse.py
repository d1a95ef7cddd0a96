"""A tiny hand-made warehouse for the report tests, and helpers to render and open it.

The marts are written by hand so the expected numbers (nodes, links, bars, the change
sentence) are known without running the pipeline. One stage label and several other strings
carry HTML to prove it is shown as text and never runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

XSS = "<img src=x onerror=alert(1)>"
STAGES = ["awareness", "consideration", XSS, "purchase"]
RUN_ID = "20250312T020000Z-beef"
PREV_RUN_ID = "20250311T020000Z-cafe"
RUN_AT = datetime(2025, 3, 12, 2, 0, tzinfo=timezone.utc)
AS_OF = datetime(2025, 3, 12, 0, 0, tzinfo=timezone.utc)
TITLE = "Customer journeys — <test> & shop"
TIMEZONE = "Europe/Berlin"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

DAY = 86400.0
FUNNEL_STEPS = [
    (1, "awareness", 1000, None, None, 1.0, None, None, None),  # step 1 has no previous step
    (2, "consideration", 600, 50, 350, 0.6, 0.6, 2 * DAY, 9 * DAY),
    (3, XSS, 300, 40, 260, 0.3, 0.5, 5 * 3600.0, 30 * 3600.0),
    (4, "purchase", 240, 20, 40, 0.24, 0.8, 3 * DAY, 12 * DAY),
]
# (step, source_label, target_label, customers); flows balance, 1,000 customers at step 1.
SANKEY_LINKS = [
    (1, "awareness", "consideration", 500), (1, "awareness", "(end)", 300), (1, "awareness", "Other", 100),
    (1, "consideration", XSS, 60), (1, "consideration", "(end)", 40),
    (2, "consideration", XSS, 250), (2, "consideration", "purchase", 100), (2, "consideration", "(end)", 150),
    (2, "Other", "consideration", 60), (2, "Other", "(end)", 40),
    (2, XSS, "purchase", 30), (2, XSS, "(end)", 30),
    (3, XSS, "purchase", 120), (3, XSS, "(end)", 130), (3, "purchase", "converted", 130),
    (3, "consideration", "(end)", 60),
    (4, "purchase", "converted", 120),
]
N_SANKEY_NODES = 2 + 4 + 4 + 3 + 1
N_SANKEY_LINKS = len(SANKEY_LINKS)
PATHS = [
    (1, f"awareness > consideration > {XSS} > purchase > converted", 120, 0.12),
    (2, "awareness > (end)", 300, 0.30),
    (3, "awareness > consideration > (end)", 150, 0.15),
    (4, f"awareness > consideration > {XSS} > (end)", 130, 0.13),
    (5, "awareness > consideration > purchase > converted", 100, 0.10),
    (6, "other paths", 200, 0.20),
]
STAGE_TO_STAGE = [  # from_stage, to_stage, customers, median_s, p90_s
    ("awareness", "consideration", 600, 5 * 3600.0, 3 * DAY),
    ("consideration", XSS, 300, 2 * DAY, 8 * DAY),
]
BUCKETS = ["< 1 min", "1-10 min", "10-60 min", "1-6 h", "6-24 h", "1-3 d", "3-7 d", "7-14 d", "14-30 d", ">= 30 d"]
# customers per bucket of steps 2-4; each step's buckets sum to its reached (600, 300, 240)
TIME_TO_CONVERT_COUNTS = {
    2: [0, 0, 30, 90, 120, 150, 120, 60, 30, 0],
    3: [3, 27, 60, 90, 60, 30, 30, 0, 0, 0],
    4: [0, 0, 0, 24, 48, 48, 72, 24, 24, 0],
}
# (step, stage, bucket_index, bucket, lower_s, upper_s, customers), as marts.funnel_time_to_convert
TIME_TO_CONVERT = [(step, FUNNEL_STEPS[step - 1][1], i, bucket, 0.0, None, counts[i - 1])
                   for step, counts in TIME_TO_CONVERT_COUNTS.items() for i, bucket in enumerate(BUCKETS, start=1)]
TIME_IN_STAGE = [
    ("awareness", 1400, 1000, 1300, 100, 1800.0, 7200.0, 4 * 3600.0, 2400.0),
    ("consideration", 900, 600, 700, 200, 2 * DAY, 4 * DAY, 9 * DAY, 3 * DAY),
    (XSS, 400, 300, 350, 50, 5 * 3600.0, 12 * 3600.0, 30 * 3600.0, 6 * 3600.0),
    ("purchase", 260, 240, 250, 10, 3600.0, 3 * 3600.0, 8 * 3600.0, 3600.0),
]
CHANNELS = {"paid_search": 500, "email": 250, "<b onmouseover=alert(3)>direct</b>": 150, "Other": 100}


SEGMENTS = {"smb": 600, "enterprise": 400}
# (rank, source, event_name, stage, customers, exits, exit_rate, csat_responses, avg_csat, nps_responses, nps)
PAIN_POINTS = [
    (1, "web", "pricing_view", "consideration", 600, 150, 0.25, 0, None, 0, None),
    (2, "service", XSS, XSS, 200, 30, 0.15, 80, 2.75, 80, -35.0),
    (None, "crm", "renewal", "purchase", 5, 1, 0.2, 0, None, 0, None),
]
# (source, event_name, proposed_stage, share, occurrences, n_with_stage, n_without_stage, customers, is_used)
STAGE_INFERENCE = [
    ("web", "webinar_attended", "consideration", 0.9, 90, 100, 3, 60, True),
    ("web", "<script>alert(7)</script>", "awareness", 0.5, 10, 20, 0, 12, False),
]


def _breakdown() -> list[tuple]:
    rows = []
    for dimension, values in (("channel", CHANNELS), ("segment", SEGMENTS)):
        rows += _breakdown_rows(dimension, values)
    return rows


def _breakdown_rows(dimension: str, values: dict[str, int]) -> list[tuple]:
    rows = []
    for k, (channel, start) in enumerate(values.items()):
        reached = start
        for step, stage, *_ in FUNNEL_STEPS:
            conv = 1.0 if step == 1 else [0.6, 0.5, 0.8][step - 2] - 0.05 * k
            nxt = round(reached * conv) if step > 1 else start
            rows.append((dimension, channel, step, stage, nxt, 5 if step > 1 else 0, reached - nxt - (5 if step > 1 else 0),
                         nxt / start))
            reached = nxt
    return rows


def _history() -> list[tuple]:
    """Two runs; purchase conversion falls from 27.2% to 24.0% (−3.2 pts)."""
    prev_at = RUN_AT - timedelta(days=1)
    prev = {"events": 19000, "customers": 950, "rows_quarantined": 3,
            "conversion_from_start:consideration": 0.61, f"conversion_from_start:{XSS}": 0.30,
            "conversion_from_start:purchase": 0.272}
    now = {"events": 20000, "customers": 1000, "rows_quarantined": 4,
           "conversion_from_start:consideration": 0.60, f"conversion_from_start:{XSS}": 0.30,
           "conversion_from_start:purchase": 0.24}
    for _step, stage, reached, *_ in FUNNEL_STEPS:
        now[f"reached:{stage}"] = reached
        prev[f"reached:{stage}"] = reached - 10
    now["conversion_from_start:awareness"] = prev["conversion_from_start:awareness"] = 1.0
    now["latest_event_at"] = (AS_OF - timedelta(days=3, hours=4)).timestamp()  # 8 Mar 2025, 20:00 UTC
    return ([(PREV_RUN_ID, prev_at, prev_at - timedelta(hours=2), m, float(v)) for m, v in prev.items()]
            + [(RUN_ID, RUN_AT, AS_OF, m, float(v)) for m, v in now.items()])


DDL = """
create schema marts; create schema ingest;
create table marts.funnel_steps(step int, stage varchar, reached bigint, in_progress bigint, dropped bigint,
  conversion_from_start double, conversion_from_previous double, median_s_to_convert double,
  p90_s_to_convert double);
create table marts.funnel_time_to_convert(step int, stage varchar, bucket_index int, bucket varchar,
  lower_s double, upper_s double, customers bigint);
create table marts.funnel_breakdown(dimension varchar, breakdown_value varchar, step int, stage varchar, reached bigint,
  in_progress bigint, dropped bigint, conversion_from_start double);
create table marts.time_in_stage(stage varchar, visits bigint, customers bigint, completed bigint, open bigint,
  median_s double, p75_s double, p90_s double, km_median_s double);
create table marts.stage_to_stage(from_stage varchar, to_stage varchar, customers bigint, median_s double,
  p90_s double);
create table marts.stages(stage_index int, stage varchar);
create table marts.path_frequencies(rank int, path varchar, customers bigint, share double);
create table marts.sankey_links(step int, source_label varchar, target_label varchar, customers bigint);
create table marts.run_history(run_id varchar, run_at timestamptz, as_of timestamptz, metric varchar,
  value double);
create table marts.pain_points(rank bigint, source varchar, event_name varchar, stage varchar, customers bigint,
  exits bigint, exit_rate double, csat_responses bigint, avg_csat double, nps_responses bigint, nps double);
create table marts.stage_inference(source varchar, event_name varchar, proposed_stage varchar, share double,
  occurrences bigint, n_with_stage bigint, n_without_stage bigint, customers bigint, is_used boolean);
create table ingest.manifest(run_id varchar, source varchar, path varchar, size_bytes bigint,
  content_sha256 varchar, rows_read bigint, rows_loaded bigint, rows_deduplicated bigint,
  rows_quarantined bigint, loaded_at timestamptz);
create table ingest.quarantine(run_id varchar, source varchar, path varchar, line bigint, reason varchar,
  detail varchar, raw_record varchar);
"""


def build_warehouse(path: Path, *, with_breakdown: bool = True) -> Path:
    """Write the hand-made marts into a DuckDB file at `path`."""
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        con.executemany("insert into marts.funnel_steps values (?,?,?,?,?,?,?,?,?)", FUNNEL_STEPS)
        con.executemany("insert into marts.funnel_time_to_convert values (?,?,?,?,?,?,?)", TIME_TO_CONVERT)
        con.executemany("insert into marts.funnel_breakdown values (?,?,?,?,?,?,?,?)", _breakdown())
        if not with_breakdown:
            con.execute("drop table marts.funnel_breakdown")
        con.executemany("insert into marts.pain_points values (?,?,?,?,?,?,?,?,?,?,?)", PAIN_POINTS)
        con.executemany("insert into marts.stage_inference values (?,?,?,?,?,?,?,?,?)", STAGE_INFERENCE)
        con.executemany("insert into marts.time_in_stage values (?,?,?,?,?,?,?,?,?)", TIME_IN_STAGE)
        con.executemany("insert into marts.stage_to_stage values (?,?,?,?,?)", STAGE_TO_STAGE)
        con.executemany("insert into marts.stages values (?,?)", list(enumerate(STAGES, start=1)))
        con.executemany("insert into marts.path_frequencies values (?,?,?,?)", PATHS)
        con.executemany("insert into marts.sankey_links values (?,?,?,?)", SANKEY_LINKS)
        con.executemany("insert into marts.run_history values (?,?,?,?,?)", _history())
        loaded = RUN_AT - timedelta(minutes=5)
        con.executemany("insert into ingest.manifest values (?,?,?,?,?,?,?,?,?,?)", [
            (PREV_RUN_ID, "web", "data/web/day1.jsonl", 1000, "a" * 64, 100, 95, 2, 3, loaded - timedelta(days=1)),
            (RUN_ID, "web", "data/web/day2.jsonl", 1200, "b" * 64, 120, 110, 7, 3, loaded),
            (RUN_ID, "crm", "data/crm/<day2>.csv", 800, "c" * 64, 50, 49, 0, 1, loaded),
        ])
        con.executemany("insert into ingest.quarantine values (?,?,?,?,?,?,?)", [
            (PREV_RUN_ID, "web", "data/web/day1.jsonl", 7, "bad_timestamp", "not a time", '{"ts":"x"}'),
            (RUN_ID, "web", "data/web/day2.jsonl", 3, "bad_timestamp", "'yesterday' is not a time",
             '{"timestamp":"yesterday","email":"9f86d081884c7d65"}'),
            (RUN_ID, "web", "data/web/day2.jsonl", 9, "missing_identifier", "no identifier",
             f'{{"event":"{XSS}"}}'),
            (RUN_ID, "web", "data/web/day2.jsonl", 12, "bad_json", "</td><script>alert(5)</script>", "{oops"),
            (RUN_ID, "crm", "data/crm/<day2>.csv", 4, "missing_column", "activity is empty",
             '{"activity_id":"A4","activity":""}'),
        ])
    finally:
        con.close()
    return path


def render(db: Path, out_dir: Path, *, run_id: str = RUN_ID, run_at: datetime = RUN_AT,
           as_of: datetime = AS_OF, **settings) -> Path:
    """Render one run of the fixture warehouse `db` into `out_dir`."""
    from journey_analytics.reports import render_run_report

    con = duckdb.connect(str(db), read_only=True)
    try:
        return render_run_report(con, out_dir, run_id=run_id, run_at=run_at, as_of=as_of, title=TITLE,
                                 stages=STAGES, timezone=TIMEZONE, **settings)
    finally:
        con.close()


@dataclass
class OpenedPage:
    """A report opened in Chromium, with everything it did on the way."""

    page: object
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(browser, report: Path) -> OpenedPage:
    """Load `report` from file:// at 1280 px wide in a fresh context; block and record non-file requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = OpenedPage(page=page)

    def on_route(route):
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            seen.blocked.append(url)
            route.abort()

    def on_dialog(dialog):
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", on_route)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    page.on("dialog", on_dialog)
    page.goto(report.as_uri(), wait_until="load")
    # A function, not an expression string: Playwright evaluates strings with eval(), which the CSP forbids.
    page.wait_for_function("() => window.journeyReport && window.journeyReport.readyAt !== null", timeout=20000)
    return seen
