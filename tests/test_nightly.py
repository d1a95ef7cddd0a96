"""End to end: `journey run` (a real Prefect flow run) on the bundled sample, checked against the
generator's ground truth — never against the pipeline's own output."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import defaultdict

import duckdb
import polars as pl
import pytest

from journey_analytics.config import load_config
from journey_analytics.metrics import build_marts, settings_from
from journey_analytics.reports import render_run_report
from tests import reference_metrics as ref
from tests.conftest import SAMPLE_AS_OF as AS_OF
from tests.helpers import ROOT

TRUTH = ROOT / "data" / "sample" / "ground_truth"
SOURCE_PRIORITY = {"web": 1, "crm": 2, "service": 3}  # the order of sources in journey.yaml


@pytest.fixture(scope="module")
def truth_touchpoints():
    events = pl.read_parquet(TRUTH / "events.parquet").filter(pl.col("occurred_at") <= AS_OF)
    stages = load_config(ROOT / "journey.yaml").stage_names
    rows = sorted(events.iter_rows(named=True),
                  key=lambda r: (r["person_id"], r["occurred_at"], SOURCE_PRIORITY[r["source"]], r["source"], r["event_id"]))
    seq = defaultdict(int)
    out = []
    for r in rows:
        seq[r["person_id"]] += 1
        out.append(ref.Touchpoint(r["person_id"], seq[r["person_id"]], r["occurred_at"], r["true_stage"],
                                  stages.index(r["true_stage"]) + 1, source=r["source"], event_name=r["event_name"]))
    return out


def test_every_customer_has_exactly_the_true_identifiers(project):
    config, con, _ = project
    persons = pl.read_parquet(TRUTH / "persons.parquet")
    salt = config.hash_salt
    truth = defaultdict(set)
    for person, id_type, value in persons.iter_rows():
        if id_type == "email":
            value = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
        truth[person].add((id_type, value))
    found = defaultdict(set)
    for id_type, value, customer in con.execute("select id_type, id_value, customer_id from core.identity_map").fetchall():
        found[customer].add((id_type, value))
    kiosk = {c for c, ids in found.items() if ids == {("anonymous_id", "a-ace37c4e6153")}}
    assert len(kiosk) == 1  # the shared kiosk cookie is a super-node: alone, linked to no one
    assert sorted(map(sorted, (ids for c, ids in found.items() if c not in kiosk))) == sorted(map(sorted, truth.values()))
    assert con.execute("select id_value, linked_type, degree from core.identity_conflicts").fetchall() == [
        ("a-ace37c4e6153", "user_id", 30)]


def test_customers_and_stages_match_the_ground_truth(project, truth_touchpoints):
    _, con, _ = project
    n_people = len({t.customer_id for t in truth_touchpoints})
    assert con.execute("select count(distinct customer_id) from core.touchpoints").fetchall() == [(n_people,)]
    truth_stage = {(r["source"], r["event_id"]): r["true_stage"]
                   for r in pl.read_parquet(TRUTH / "events.parquet").iter_rows(named=True)}
    got = {(s, e): st for s, e, st in con.execute("select source, event_id, stage from core.touchpoints").fetchall()}
    assert got == {k: v for k, v in truth_stage.items() if k in got} and len(got) == len(truth_touchpoints)


def test_funnel_and_paths_equal_the_reference_on_the_true_journeys(project, truth_touchpoints):
    config, con, _ = project
    expected = ref.all_marts(truth_touchpoints, config.stage_names, AS_OF, window_days=config.funnel.window_days,
                             max_steps=config.paths.max_steps, paths_top_n=config.paths.top_n,
                             nodes_per_step=config.paths.nodes_per_step, goal_stage=config.paths.goal_stage)
    cols = ["step", "stage", "reached", "in_progress", "dropped"]
    got = [dict(zip(cols, r)) for r in con.execute(f"select {', '.join(cols)} from marts.funnel_steps order by step").fetchall()]
    assert got == [{k: row[k] for k in cols} for row in expected["marts.funnel_steps"]]
    assert got[0]["reached"] == len({t.customer_id for t in truth_touchpoints if t.stage == "awareness"})
    assert any(r["in_progress"] for r in got[1:]), "as_of inside the last window: someone is still in progress"
    paths = con.execute("select path, customers from marts.path_frequencies order by rank").fetchall()
    assert paths == [(r["path"], r["customers"]) for r in expected["marts.path_frequencies"]]


def test_touchpoint_steps_and_path_nodes_equal_the_reference_on_the_true_journeys(project, truth_touchpoints, tmp_path):
    """funnel.steps with a touchpoint (crm:lead_created) and paths.node: touchpoint on the sample: the funnel,
    path and Sankey tables equal the reference's on the generator's true journeys."""
    config, con, _ = project
    steps = ("awareness", "crm:lead_created", "purchase")
    settings = dataclasses.replace(settings_from(config), path_node="touchpoint", funnel_steps=steps)
    scratch = duckdb.connect()
    scratch.execute("create schema core")
    scratch.register("sample_touchpoints", con.sql("select * from core.touchpoints").arrow())
    scratch.execute("create table core.touchpoints as select * from sample_touchpoints")
    build_marts(scratch, settings, AS_OF)
    expected = ref.all_marts(truth_touchpoints, config.stage_names, AS_OF, window_days=config.funnel.window_days,
                             max_steps=config.paths.max_steps, paths_top_n=config.paths.top_n,
                             nodes_per_step=config.paths.nodes_per_step, goal_stage=config.paths.goal_stage,
                             path_node="touchpoint", funnel_steps=steps)
    for table, keys in (("marts.funnel_steps", "step"), ("marts.path_frequencies", "rank"),
                        ("marts.sankey_nodes", "step, node_label"),
                        ("marts.sankey_links", "step, source_label, target_label")):
        cursor = scratch.execute(f"select * from {table} order by {keys}")  # names: the constants above
        columns = [d[0] for d in cursor.description]
        got = [dict(zip(columns, row)) for row in cursor.fetchall()]
        want = sorted(expected[table], key=lambda r: tuple(r[k.strip()] for k in keys.split(",")))
        assert got == want, table
    report = render_run_report(scratch, tmp_path, run_id="20250101T000000Z-abcd", run_at=AS_OF, as_of=AS_OF,
                               title="t", stages=list(config.stage_names), timezone="UTC", path_node="touchpoint")
    page = report.read_text(encoding="utf-8")
    assert 0 < expected["marts.funnel_steps"][1]["reached"] < expected["marts.funnel_steps"][0]["reached"]
    assert "<h2>Journeys between touchpoints</h2>" in page and "from touchpoint to touchpoint" in page
    assert "Reached crm:lead_created" in (tmp_path / "index.html").read_text(encoding="utf-8")  # compared on steps


def test_quarantine_holds_exactly_the_bad_rows_with_their_reasons(project):
    _, con, _ = project
    bad = pl.read_csv(TRUTH / "bad_rows.csv")
    expected = {(f"data/sample/{r['file']}", r["line"]): r["expected"]
                for r in bad.iter_rows(named=True) if r["expected"] != "deduplicated"}
    got = {(p, l): reason for p, l, reason in con.execute("select path, line, reason from ingest.quarantine").fetchall()}
    assert got == expected
    dedup = bad.filter(pl.col("expected") == "deduplicated").group_by("file").len()
    manifest = {p: d for p, d in con.execute("select path, rows_deduplicated from ingest.manifest").fetchall()}
    assert manifest == {f"data/sample/{f}": n for f, n in dedup.iter_rows()}


def test_a_second_run_over_the_same_inputs_changes_no_mart(project):
    _, con, first = project
    for table, rows in first.items():
        assert con.execute(f"select * from marts.{table} order by all").fetchall() == rows, table
    assert con.execute("select count(distinct run_id) from marts.run_history").fetchall() == [(2,)]
    assert con.execute("select count(*) from ingest.manifest").fetchall() == [(3,)]  # second run read nothing


def test_the_report_is_written_with_plotly_embedded_once(project):
    config, _, _ = project
    latest = config.reports_path / "latest" / "index.html"
    html = latest.read_text()
    assert len(re.findall(r"plotly\.js v\d", html)) == 1  # the library is embedded exactly once
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:", html)  # nothing fetched from a network
    runs = [p for p in config.reports_path.iterdir() if p.is_dir() and p.name != "latest"]
    assert len(runs) == 2 and all((p / "index.html").exists() for p in runs)
    assert "href" in (config.reports_path / "index.html").read_text()
