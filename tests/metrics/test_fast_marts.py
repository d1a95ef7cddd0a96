"""The DuckDB-only fast forms (`sql/marts/fast/`, used by `build_marts` by default) build exactly
the tables of the portable SQL (`fast=False`): same columns, types and rows, on the golden cases,
on the hypothesis-generated logs of test_marts.py and on logs with surveys and segments."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_analytics import metrics, sqlfiles
from journey_analytics.metrics import FAST, MARTS, MetricSettings, build_marts, temp_forms
from tests import reference_metrics as ref
from tests.metrics.support import write_properties, write_touchpoints
from tests.metrics.test_marts import BASE, GOLDEN, PROPERTIES, _golden_case, journeys_case

TABLES = ["marts.stages", "marts.funnel_stages", *(name.replace("/", ".") for name in MARTS)]


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list, list]]:
    """Every mart: its (column, type) list and its rows in a canonical order."""
    out = {}
    for table in TABLES:
        schema = con.execute(f"describe {table}").fetchall()  # names come from MARTS, never from data
        rows = con.execute(f"select * from {table}").fetchall()
        out[table] = ([(c[0], c[1]) for c in schema], sorted(rows, key=repr))
    return out


def _both(touchpoints, s: MetricSettings, as_of: dt.datetime, properties=None):
    results = []
    for fast in (False, True):
        con = duckdb.connect()
        write_touchpoints(con, touchpoints)
        write_properties(con, properties or {})
        counts = build_marts(con, s, as_of, fast=fast)
        results.append((counts, _snapshot(con)))
        con.close()
    return results


def _assert_same(touchpoints, s, as_of, properties=None) -> None:
    (portable_counts, portable), (fast_counts, fast) = _both(touchpoints, s, as_of, properties)
    assert fast_counts == portable_counts
    for table in TABLES:
        assert fast[table][0] == portable[table][0], f"{table}: columns/types differ"
        assert fast[table][1] == portable[table][1], f"{table}: rows differ"


def test_fast_is_the_default_and_every_fast_form_exists() -> None:
    import inspect

    assert inspect.signature(build_marts).parameters["fast"].default is True
    for name, (temps, fast) in FAST.items():
        assert name in MARTS
        assert sqlfiles.load(fast).lstrip().startswith("-- grain:"), fast
        for temp in temps:
            assert sqlfiles.load(f"marts/fast/{temp}").lstrip().startswith("-- grain:"), temp
    options = MetricSettings(stages=("a", "b"), goal_stage="b", path_node="touchpoint", funnel_steps=("a", "web:x"))
    assert set(temp_forms(options)) <= {t for temps, _ in FAST.values() for t in temps}
    for form in temp_forms(options).values():
        assert sqlfiles.load(form).lstrip().startswith("-- grain:"), form


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_fast_equals_portable_on_golden_cases(path: Path) -> None:
    case, settings_, touchpoints, as_of = _golden_case(path)
    _assert_same(touchpoints, settings_, as_of)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys_case())
def test_fast_equals_portable_on_random_logs(case) -> None:
    touchpoints, s, as_of = case
    _assert_same(touchpoints, s, as_of)


@settings(max_examples=40, deadline=None)
@given(journeys_case(), st.data())
def test_fast_equals_portable_with_segments_and_surveys(case, data) -> None:
    touchpoints, s, as_of = case
    s = MetricSettings(**{**s.__dict__, "segment_property": "segment", "pain_min_customers": 1})
    properties = {(t.customer_id, t.event_seq): data.draw(PROPERTIES) for t in touchpoints}
    _assert_same(touchpoints, s, as_of, properties)


def test_fast_equals_portable_on_many_customers() -> None:
    """A larger deterministic log: competing attempts, regressions, long gaps, unmapped events, surveys."""
    import random

    rng = random.Random(7)
    stages = ("awareness", "consideration", "purchase", "post_purchase", "advocacy")
    touchpoints = []
    for c in range(400):
        at = BASE + dt.timedelta(hours=rng.randrange(0, 2000))
        for seq in range(1, rng.randrange(1, 30)):
            at += dt.timedelta(hours=rng.choice([0, 1, 5, 24, 24 * 10, 24 * 40]))
            k = rng.choice([None, 1, 1, 2, 2, 3, 3, 4, 5])
            touchpoints.append(ref.Touchpoint(
                customer_id=f"c{c}", event_seq=seq, occurred_at=at,
                stage="unmapped" if k is None else stages[k - 1], stage_index=k,
                channel=rng.choice(["email", "direct", None]), source=rng.choice(["web", "crm"])))
    # surveys, often several in a row (each rates the last non-survey touchpoint before it), and segments
    scores = [{}, {}, {}, {"csat": "5"}, {"nps": "3"}, {"csat": "2", "nps": "10"}, {"segment": "smb"}]
    properties = {(t.customer_id, t.event_seq): rng.choice(scores) for t in touchpoints}
    for s in (MetricSettings(stages=stages, segment_property="segment", pain_min_customers=5),
              MetricSettings(stages=stages, funnel_steps=("consideration", "advocacy"), window_days=3,
                             breakdown="source")):
        _assert_same(touchpoints, s, BASE + dt.timedelta(days=100), properties)


@settings(max_examples=50, deadline=None)
@given(journeys_case())
def test_the_funnel_fold_for_many_attempts_equals_portable_on_random_logs(case) -> None:
    """Every customer through the fold that funnel_scan uses past FOLD_AFTER attempts (random logs have few)."""
    touchpoints, s, as_of = case
    with mock.patch.object(metrics, "FOLD_AFTER", 0):
        _assert_same(touchpoints, s, as_of)


@pytest.mark.parametrize("fold_after", [0, metrics.FOLD_AFTER])
def test_a_customer_with_thousands_of_attempts_equals_portable(fold_after) -> None:
    """A crawler's cookie alternating steps 1 and 2, with gaps that close some windows, beside ordinary customers."""
    import random

    rng = random.Random(11)
    stages = ("awareness", "consideration", "purchase")
    touchpoints, at = [], BASE
    for seq in range(1, 3001):
        at += dt.timedelta(minutes=rng.choice([1, 1, 30, 60 * 24 * 3]))
        k = rng.choice([1, 2, 1, 2, 3]) if seq % 500 else 3
        touchpoints.append(ref.Touchpoint(customer_id="bot", event_seq=seq, occurred_at=at, stage=stages[k - 1],
                                          stage_index=k, channel="direct", source="web"))
    for c in range(20):
        for seq, k in enumerate(rng.sample([1, 1, 2, 3], 4), start=1):
            touchpoints.append(ref.Touchpoint(customer_id=f"c{c}", event_seq=seq, stage=stages[k - 1], stage_index=k,
                                              occurred_at=BASE + dt.timedelta(days=seq), channel="email", source="crm"))
    with mock.patch.object(metrics, "FOLD_AFTER", fold_after):
        _assert_same(touchpoints, MetricSettings(stages=stages, window_days=2), BASE + dt.timedelta(days=400))


def test_fast_visit_marts_equal_portable_on_ties_and_short_paths() -> None:
    """The visit-based fast forms (time_in_stage, stage_to_stage, path_nodes, path_frequencies,
    sankey_links from the temp table visit_rows): paths cut after 1 or 2 steps, equal timestamps
    (tied durations, zero-second stage-to-stage times), open visits, regressions, customers with only
    unmapped or future touchpoints, a single configured stage."""
    import random

    rng = random.Random(11)
    stages = ("awareness", "consideration", "purchase", "post_purchase")
    touchpoints = []
    for c in range(300):
        at = BASE + dt.timedelta(hours=rng.randrange(0, 500))
        for seq in range(1, rng.randrange(1, 16)):
            at += dt.timedelta(hours=rng.choice([0, 0, 1, 3, 24, 24 * 20]))
            k = rng.choice([None, 1, 2, 2, 3, 3, 4])
            touchpoints.append(ref.Touchpoint(
                customer_id=f"u{c}", event_seq=seq, occurred_at=at,
                stage="unmapped" if k is None else stages[k - 1], stage_index=k,
                channel=rng.choice(["email", None]), source=rng.choice(["web", "crm"])))
    as_of = BASE + dt.timedelta(days=40)
    for s in (MetricSettings(stages=stages, max_steps=1, paths_top_n=1, nodes_per_step=1),
              MetricSettings(stages=stages, max_steps=2, goal_stage="consideration", paths_top_n=3),
              MetricSettings(stages=stages[:1], max_steps=2, goal_stage="awareness")):
        _assert_same([t for t in touchpoints if t.stage_index is None or t.stage_index <= len(s.stages)], s, as_of)


def test_fast_touchpoint_paths_equal_portable() -> None:
    """Touchpoint path nodes (temp table path_lists from fast/touchpoint_path_lists.sql): runs of one label
    across stages, two event names that are one label (`home > pricing` is written `home › pricing`),
    paths cut after 1 or 2 nodes, unmapped touchpoints between runs, future touchpoints."""
    import random

    rng = random.Random(5)
    stages = ("awareness", "consideration", "purchase")
    names = ["visit", "signup", "home > pricing", "home › pricing"]
    touchpoints = []
    for c in range(300):
        at = BASE + dt.timedelta(hours=rng.randrange(0, 500))
        for seq in range(1, rng.randrange(1, 12)):
            at += dt.timedelta(hours=rng.choice([0, 1, 24, 24 * 20]))
            k = rng.choice([None, 1, 2, 2, 3])
            touchpoints.append(ref.Touchpoint(
                customer_id=f"t{c}", event_seq=seq, occurred_at=at,
                stage="unmapped" if k is None else stages[k - 1], stage_index=k,
                channel=None, source=rng.choice(["web", "web", "crm"]), event_name=rng.choice(names)))
    merged = [t for t in touchpoints if t.stage_index and t.event_name.startswith("home")]
    assert len({t.event_name for t in merged}) == 2  # both spellings occur among mapped touchpoints
    for s in (MetricSettings(stages=stages, path_node="touchpoint"),
              MetricSettings(stages=stages, path_node="touchpoint", max_steps=1, paths_top_n=2, nodes_per_step=1),
              MetricSettings(stages=stages, path_node="touchpoint", max_steps=2, goal_stage="consideration")):
        _assert_same(touchpoints, s, BASE + dt.timedelta(days=30))


def test_fast_pain_points_equal_portable_with_more_touchpoint_types_than_bits() -> None:
    """The fast form holds a customer's touchpoint types as the bits of one number (the 128 most frequent
    types) and lists the rest: 200 event names, so both are counted, and surveys, which count as no type."""
    import random

    rng = random.Random(3)
    stages = ("awareness", "consideration", "purchase")
    names = [f"e{i:03d}" for i in range(200)]
    touchpoints = []
    for c in range(300):
        at = BASE + dt.timedelta(hours=rng.randrange(0, 500))
        for seq in range(1, rng.randrange(2, 25)):
            at += dt.timedelta(hours=rng.choice([0, 1, 24, 24 * 40]))
            k = rng.choice([None, 1, 2, 3])
            touchpoints.append(ref.Touchpoint(
                customer_id=f"p{c}", event_seq=seq, occurred_at=at,
                stage="unmapped" if k is None else stages[k - 1], stage_index=k, channel=None,
                source=rng.choice(["web", "crm"]), event_name=rng.choice(names[:20] * 5 + names)))
    properties = {(t.customer_id, t.event_seq): rng.choice([{}, {}, {}, {"csat": "2"}]) for t in touchpoints}
    assert len({(t.source, t.event_name) for t in touchpoints}) > 300  # codes beyond the 128 bits
    _assert_same(touchpoints, MetricSettings(stages=stages, pain_min_customers=3), BASE + dt.timedelta(days=60),
                 properties)
