"""The metric marts: hand-computed golden cases, SQL vs the Python reference on random logs,
portability of the SQL (sqlglot → Spark), and the audits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_analytics import sqlfiles
from journey_analytics.metrics import AUDITS, MARTS, AuditError, MetricSettings, build_marts, run_audits
from tests import reference_metrics as ref
from tests.metrics.support import assert_rows_equal, build, fetch, write_properties, write_touchpoints

GOLDEN = Path(__file__).parent / "golden"
UTC = dt.timezone.utc
STAGES = ("awareness", "consideration", "purchase", "post_purchase", "advocacy")


def _time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _golden_case(path: Path):
    case = json.loads(path.read_text())
    settings_ = MetricSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in case["settings"].items()})
    columns = case["touchpoints"]["columns"]
    seq: dict[str, int] = {}
    touchpoints = []
    for values in case["touchpoints"]["rows"]:
        row = dict(zip(columns, values))
        customer = row["customer_id"]
        seq[customer] = seq.get(customer, 0) + 1  # event order = row order within the customer
        stage = row["stage"]
        touchpoints.append(ref.Touchpoint(
            customer_id=customer, event_seq=seq[customer], occurred_at=_time(row["occurred_at"]), stage=stage,
            stage_index=None if stage == "unmapped" else settings_.stages.index(stage) + 1,
            channel=row.get("channel"), source=row.get("source", "web"), event_name=row.get("event_name", "event"),
        ))
    return case, settings_, touchpoints, _time(case["as_of"])


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    case, settings_, touchpoints, as_of = _golden_case(path)
    con = duckdb.connect()
    build(con, touchpoints, settings_, as_of)
    for table, spec in case["expected"].items():
        columns = spec["columns"]
        expected = [
            {c: _time(v) if c.endswith("_at") else v for c, v in zip(columns, row)} for row in spec["rows"]
        ]
        actual = fetch(con, table)
        if "nonzero_only" in spec:
            actual = [r for r in actual if r[spec["nonzero_only"]]]
        assert_rows_equal(table, actual, expected, keys=columns, tol=1e-9)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_cases_agree_with_the_reference(path: Path) -> None:
    """The hand-computed expectations and the reference implementation tell the same story."""
    case, settings_, touchpoints, as_of = _golden_case(path)
    reference = _reference(touchpoints, settings_, as_of)
    for table, spec in case["expected"].items():
        if table not in reference:
            continue
        columns = [c for c in spec["columns"] if c not in ("deepest_stage",)]
        expected = [{c: _time(v) if c.endswith("_at") else v for c, v in zip(spec["columns"], row)}
                    for row in spec["rows"]]
        expected = [{c: r[c] for c in columns} for r in expected]
        rows = reference[table]
        if "nonzero_only" in spec:
            rows = [r for r in rows if r[spec["nonzero_only"]]]
        assert_rows_equal(table, rows, expected, keys=columns, tol=1e-9)


# ------------------------------------------------------------------------------------------------
# SQL == reference on random logs
# ------------------------------------------------------------------------------------------------
def _reference(touchpoints, s: MetricSettings, as_of: dt.datetime) -> dict:
    return ref.all_marts(
        touchpoints, s.stages, as_of, window_days=s.window_days, breakdown=s.breakdown, top_n=s.top_n,
        max_steps=s.max_steps, paths_top_n=s.paths_top_n, nodes_per_step=s.nodes_per_step,
        goal_stage=s.goal_stage, funnel_steps=s.funnel_steps, path_node=s.path_node,
    )


BASE = dt.datetime(2024, 1, 1, tzinfo=UTC)
HALF_DAY = dt.timedelta(hours=12)


@st.composite
def journeys_case(draw):
    """Small logs built to hit the edges: times on a half-day grid (windows are whole days, so
    events land exactly on window ends and on as_of), equal timestamps, a microsecond either side,
    many step-1 events (competing attempts), regressions, unmapped events, events after as_of."""
    n_stages = draw(st.sampled_from([1, 2, 3, 4, 5, 5]))
    stages = STAGES[:n_stages]
    funnel_steps: tuple[str, ...] = ()
    if n_stages > 1 and draw(st.booleans()):
        funnel_steps = tuple(s for s in stages if draw(st.booleans())) or (stages[0],)
    if draw(st.integers(0, 3)) == 0:  # touchpoint steps anywhere among them (an event label wins over its stage)
        for label in draw(st.lists(st.sampled_from(["web:signup", "crm:order", "crm:visit"]), max_size=2, unique=True)):
            steps = list(funnel_steps or stages)
            steps.insert(draw(st.integers(0, len(steps))), label)
            funnel_steps = tuple(steps)
    s = MetricSettings(
        stages=stages,
        window_days=draw(st.sampled_from([1, 2, 3, 1.5])),
        breakdown=draw(st.sampled_from(["channel", "channel", "source", "source_kind", "event_name"])),
        top_n=draw(st.integers(1, 3)),
        max_steps=draw(st.integers(1, 4)),
        paths_top_n=draw(st.integers(1, 4)),
        nodes_per_step=draw(st.integers(1, 3)),
        goal_stage=draw(st.sampled_from(stages)),
        funnel_steps=funnel_steps,
        path_node=draw(st.sampled_from(["stage", "stage", "touchpoint"])),
    )
    # "next" walks the stages forward (deep funnels), "1" restarts (competing attempts)
    moves = st.sampled_from(["next", "next", "next", "1", "any", "unmapped"])
    touchpoints = []
    for c in range(draw(st.integers(0, 6))):
        n = draw(st.integers(0, 10))
        ticks = sorted(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)))
        last = 0
        for seq, tick in enumerate(ticks, start=1):
            move = draw(moves)
            if move == "unmapped":
                k = None
            elif move == "next":
                k = min(last + 1, n_stages)
            elif move == "1":
                k = 1
            else:
                k = draw(st.integers(1, n_stages))
            last = last if k is None else k
            jitter = draw(st.sampled_from([0, 0, 0, 1, -1]))
            at = BASE + tick * HALF_DAY + dt.timedelta(microseconds=jitter)
            if touchpoints and touchpoints[-1].customer_id == f"c{c}" and at < touchpoints[-1].occurred_at:
                at = touchpoints[-1].occurred_at  # keep time non-decreasing in event order
            touchpoints.append(ref.Touchpoint(
                customer_id=f"c{c}", event_seq=seq, occurred_at=at,
                stage="unmapped" if k is None else stages[k - 1], stage_index=k,
                channel=draw(st.sampled_from(["email", "direct", "paid", None])),
                source=draw(st.sampled_from(["web", "crm"])),
                source_kind=draw(st.sampled_from(["clickstream", "crm"])),
                event_name=draw(st.sampled_from(["visit", "signup", "order", "home > pricing", "home › pricing"])),
            ))
    as_of = BASE + draw(st.integers(0, 12)) * HALF_DAY + dt.timedelta(microseconds=draw(st.sampled_from([0, 0, 1])))
    return touchpoints, s, as_of


KEYS = {
    "core.stage_visits": ["customer_id", "visit_seq"],
    "marts.funnel_steps": ["step"],
    "marts.funnel_breakdown": ["breakdown_value", "step"],
    "marts.funnel_time_to_convert": ["step", "bucket_index"],
    "marts.time_in_stage": ["stage"],
    "marts.stage_to_stage": ["from_stage"],
    "marts.path_frequencies": ["rank"],
    "marts.sankey_nodes": ["step", "node_label"],
    "marts.sankey_links": ["step", "source_label", "target_label"],
}


# Event properties: segments, survey scores (often several surveys in a row), other keys, and keys written
# with JSON escapes (the fast forms look for the key's text)
PROPERTIES = st.sampled_from([{}, {"segment": "smb"}, {"segment": "enterprise"}, {"segment": ""},
                              {"csat": "4"}, {"nps": "9"}, {"csat": "1", "nps": "2"}, {"nps": "6"}, {"url": "x"},
                              '{"segm\\u0065nt": "escaped"}', '{"c\\u0073at": "3"}'])


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys_case())
def test_sql_marts_equal_the_reference(con, case) -> None:
    touchpoints, s, as_of = case
    build(con, touchpoints, s, as_of)  # also runs every audit
    expected = _reference(touchpoints, s, as_of)
    for table, keys in KEYS.items():
        assert_rows_equal(table, fetch(con, table), expected[table], keys=keys)

    # per customer: the chosen attempt, its depth, and exactly which events reached each step
    got = {r["customer_id"]: r for r in fetch(con, "marts.funnel_customers")}
    steps = {}
    for r in sorted(fetch(con, "marts.funnel_customer_steps"), key=lambda r: r["step"]):
        steps.setdefault(r["customer_id"], []).append(r["event_seq"])
    want = {r["customer_id"]: r for r in expected["marts.funnel_customers"]}
    assert got.keys() == want.keys()
    for customer, w in want.items():
        g = got[customer]
        assert (g["attempt_start_seq"], g["deepest_step"], g["breakdown_value"], g["is_in_progress"]) == (
            w["attempt_start_seq"], w["deepest_step"], w["breakdown_value"], w["is_in_progress"]), customer
        assert g["reached_at"] == w["reached_at"], customer
        assert steps[customer] == w["reached_seq"], customer


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys_case(), st.data())
def test_segments_and_pain_points_equal_the_reference(con, case, data) -> None:
    """The segment breakdown and marts.pain_points read event properties, which the logs above do not
    carry; here every touchpoint gets some, events after as_of included (they must not count)."""
    touchpoints, s, as_of = case
    s = MetricSettings(**{**s.__dict__, "segment_property": "segment",
                          "pain_min_customers": data.draw(st.integers(1, 3))})
    properties = {(t.customer_id, t.event_seq): data.draw(PROPERTIES) for t in touchpoints}
    write_touchpoints(con, touchpoints)
    write_properties(con, properties)
    build_marts(con, s, as_of)
    journeys = ref.journeys(touchpoints, as_of)
    window_us = float(s.window_days) * 86_400 * 1e6
    expected = ref.pain_points(journeys, properties, s.stages, as_of, window_us, s.csat_property, s.nps_property,
                               s.pain_min_customers)
    assert_rows_equal("marts.pain_points", fetch(con, "marts.pain_points"), expected, keys=["source", "event_name"])
    customers = ref.funnel_customers(journeys, s.steps, window_us, as_of, s.breakdown)
    segment = ref.segments(journeys, properties, "segment")
    by_segment = {c: {**row, "breakdown_value": segment[c]} for c, row in customers.items()}
    got = [r for r in fetch(con, "marts.funnel_breakdown") if r["dimension"] == "segment"]
    assert_rows_equal("marts.funnel_breakdown (segment)", got, ref.funnel_breakdown(by_segment, s.steps, s.top_n),
                      keys=["breakdown_value", "step"])


# ------------------------------------------------------------------------------------------------
# Portability and audits
# ------------------------------------------------------------------------------------------------
# Not in the portable subset: functions sqlglot passes through by name (no Spark mapping), list
# indexing (1-based in DuckDB, 0-based in Spark), quantile functions (their definitions differ).
NOT_PORTABLE = (exp.Anonymous, exp.Bracket, exp.Quantile, exp.ApproxQuantile, exp.PercentileCont, exp.PercentileDisc)


@pytest.mark.parametrize("name", list(MARTS) + list(AUDITS))
def test_sql_transpiles_to_spark(name: str) -> None:
    sql = sqlfiles.load(name)
    assert sql.lstrip().startswith("-- grain:"), f"{name}: start with a comment naming grain and key"
    tree = sqlglot.parse_one(sql, read="duckdb")
    unportable = sorted({node.sql("duckdb")[:60] for node in tree.find_all(*NOT_PORTABLE)})
    unportable += [node.sql("duckdb")[:60] for node in tree.find_all(exp.ArrayAgg) if isinstance(node.this, exp.Order)]
    assert not unportable, f"{name}: not portable to Spark: {unportable}"
    (spark,) = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert spark


def test_every_model_and_audit_exists() -> None:
    for name in (*MARTS, *AUDITS):
        assert (sqlfiles.SQL_DIR / f"{name}.sql").is_file(), name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys_case())
def test_audits_pass_on_random_data(con, case) -> None:
    touchpoints, s, as_of = case
    build(con, touchpoints, s, as_of)  # build_marts runs every audit last: an offending row raises AuditError


# One break per thing an audit guards: each must return rows for it (an audit that never can guards nothing).
@pytest.mark.parametrize("audit, corruption", [
    ("audits/funnel_never_grows", "update marts.funnel_steps set reached = reached + 100 where step = 3"),
    ("audits/funnel_never_grows", "update marts.funnel_steps set in_progress = -1 where step = 1"),
    ("audits/funnel_never_grows", "update marts.funnel_breakdown set dropped = -1 where step = 2"),
    ("audits/funnel_never_grows", "update marts.funnel_breakdown set reached = reached + 100 where step = 3"),
    ("audits/durations_nonnegative", "update marts.time_in_stage set median_s = -1 where stage = 'awareness'"),
    ("audits/sankey_balance", "update marts.sankey_links set customers = customers + 1 where step = 2"),
    ("audits/sankey_balance", "update marts.sankey_nodes set n_ended = n_ended + 1 where step = 1"),
    ("audits/paths_sum_to_customers", "update marts.path_frequencies set customers = customers + 1 where rank = 1"),
    ("audits/paths_sum_to_customers", "update marts.path_frequencies set share = share / 2"),
    ("audits/sankey_matches_paths", "update marts.sankey_nodes set n_ended = n_ended + 1 where step = 2"),
    ("audits/sankey_matches_paths", "update marts.sankey_links set customers = customers + 1 where step = 1"),
])
def test_each_audit_finds_what_it_guards(audit, corruption) -> None:
    case, settings_, touchpoints, as_of = _golden_case(GOLDEN / "worked_example.json")
    con = duckdb.connect()
    build(con, touchpoints, settings_, as_of)
    assert sqlfiles.query(con, audit).fetchall() == []
    changed = con.execute(corruption).fetchall()
    assert changed[0][0] >= 1, "the corruption changed no row: it tests nothing"
    assert sqlfiles.query(con, audit).fetchall(), f"{audit} missed: {corruption}"
    with pytest.raises(AuditError):
        run_audits(con)


def test_a_failing_audit_is_named() -> None:
    case, settings_, touchpoints, as_of = _golden_case(GOLDEN / "worked_example.json")
    con = duckdb.connect()
    build(con, touchpoints, settings_, as_of)
    con.execute("update marts.sankey_links set customers = customers + 1 where step = 2")
    with pytest.raises(AuditError, match="audits/sankey_balance") as failure:
        run_audits(con)
    assert failure.value.rows


def test_a_visit_ending_before_it_starts_fails_the_durations_audit() -> None:
    case, settings_, touchpoints, as_of = _golden_case(GOLDEN / "worked_example.json")
    con = duckdb.connect()
    build(con, touchpoints, settings_, as_of)
    con.execute(
        "update core.stage_visits set ended_at = started_at - interval 1500 millisecond "
        "where visit_seq = 1 and ended_at is not null and customer_id = (select min(customer_id) from core.stage_visits)"
    )
    with pytest.raises(AuditError, match="audits/durations_nonnegative") as failure:
        run_audits(con)
    assert [row[0] for row in failure.value.rows] == ["core.stage_visits"]
    assert failure.value.rows[0][2] == -1.5


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="goal_stage"):
        MetricSettings(stages=("awareness", "consideration"))
    with pytest.raises(ValueError, match="breakdown"):
        MetricSettings(stages=STAGES, breakdown="favourite_colour")
    with pytest.raises(ValueError, match="funnel.steps"):
        MetricSettings(stages=STAGES, funnel_steps=("purchase", "awareness"))
    with pytest.raises(ValueError, match="paths.node 'event' is not supported; use one of .'stage', 'touchpoint'."):
        MetricSettings(stages=STAGES, path_node="event")
    with pytest.raises(ValueError, match="time zone"):
        build_marts(duckdb.connect(), MetricSettings(stages=STAGES), dt.datetime(2024, 1, 1))


def test_stage_numbering_must_match_the_settings() -> None:
    con = duckdb.connect()
    touchpoints = [ref.Touchpoint("a", 1, BASE, "consideration", 1)]
    with pytest.raises(ValueError, match="stage numbering"):
        build(con, touchpoints, MetricSettings(stages=STAGES), BASE)


def test_settings_from_journey_yaml() -> None:
    from journey_analytics.config import load_config
    from journey_analytics.metrics import settings_from

    path = Path(__file__).resolve().parents[2] / "journey.yaml"
    expected = MetricSettings(stages=STAGES, window_days=30, top_n=8, max_steps=6, paths_top_n=20,
                              nodes_per_step=8, goal_stage="purchase", segment_property="segment")
    assert settings_from(load_config(path)) == expected
    assert expected.params(BASE)["window_s"] == 30 * 86_400


def test_nearest_rank_at_exact_multiples() -> None:
    """Ten customers take 1..10 hours from awareness to consideration: the nearest-rank median is
    the 5th value (5 h) and p90 the 9th (9 h), where rank = ceil(p/100 * n) lands exactly."""
    touchpoints = []
    for i in range(1, 11):
        touchpoints += [ref.Touchpoint(f"c{i}", 1, BASE, "awareness", 1),
                        ref.Touchpoint(f"c{i}", 2, BASE + dt.timedelta(hours=i), "consideration", 2)]
    con = duckdb.connect()
    build(con, touchpoints, MetricSettings(stages=("awareness", "consideration"), goal_stage="consideration"),
          BASE + dt.timedelta(days=60))
    step2 = [r for r in fetch(con, "marts.funnel_steps") if r["step"] == 2][0]
    assert (step2["median_s_to_convert"], step2["p90_s_to_convert"]) == (5 * 3600.0, 9 * 3600.0)
    awareness = [r for r in fetch(con, "marts.time_in_stage") if r["stage"] == "awareness"][0]
    assert (awareness["median_s"], awareness["p75_s"], awareness["p90_s"], awareness["km_median_s"]) == (
        5 * 3600.0, 8 * 3600.0, 9 * 3600.0, 5 * 3600.0)


@pytest.mark.parametrize("fast", [False, True])
def test_a_customer_whose_latest_attempt_is_open_is_in_progress_even_when_an_older_one_went_deeper(fast) -> None:
    """W = 7 d, as of Mar 20. x: awareness Mar 1, consideration Mar 2, awareness Mar 15. The chosen attempt
    (Mar 1, depth 2) closed on Mar 8, but the Mar 15 attempt is open until Mar 22 and can still reach purchase
    (it does on Mar 21), so x is in progress before purchase, not dropped. y: the same without Mar 15: dropped."""
    at = lambda day: dt.datetime(2024, 3, day, tzinfo=UTC)  # noqa: E731
    touchpoints = [ref.Touchpoint("x", 1, at(1), "awareness", 1), ref.Touchpoint("x", 2, at(2), "consideration", 2),
                   ref.Touchpoint("x", 3, at(15), "awareness", 1),
                   ref.Touchpoint("y", 1, at(1), "awareness", 1), ref.Touchpoint("y", 2, at(2), "consideration", 2)]
    build_touchpoints = [*touchpoints, ref.Touchpoint("x", 4, at(21), "consideration", 2)]
    con = duckdb.connect()
    s = MetricSettings(stages=STAGES[:3], window_days=7)
    write_touchpoints(con, build_touchpoints)
    build_marts(con, s, at(20), fast=fast)  # the Mar 21 event is after as_of: not seen
    customers = {r["customer_id"]: r for r in fetch(con, "marts.funnel_customers")}
    assert {c: (r["attempt_started_at"], r["deepest_step"], r["is_in_progress"]) for c, r in customers.items()} == {
        "x": (at(1), 2, True), "y": (at(1), 2, False)}
    step3 = [r for r in fetch(con, "marts.funnel_steps") if r["step"] == 3][0]
    assert (step3["reached"], step3["in_progress"], step3["dropped"]) == (0, 1, 1)


@pytest.mark.parametrize("fast", [False, True])
def test_a_breakdown_value_spelled_other_is_never_a_second_other_row(fast) -> None:
    """top_n = 2. Channel values: Other (3 customers), A (2), B, C, null (1 each). A real `Other` is ranked
    last: A and (none) keep their names (ties: text order), B, C and the real Other are the Other row (5).
    With top_n = 8 nothing is folded and the real Other keeps its name."""
    values = ["Other"] * 3 + ["A"] * 2 + ["B", "C", None]
    touchpoints = [ref.Touchpoint(f"c{i}", 1, BASE, "awareness", 1, channel=v) for i, v in enumerate(values)]
    for top_n, expected in ((2, {"A": 2, "(none)": 1, "Other": 5}),
                            (8, {"Other": 3, "A": 2, "B": 1, "C": 1, "(none)": 1})):
        con = duckdb.connect()
        write_touchpoints(con, touchpoints)
        build_marts(con, MetricSettings(stages=STAGES[:3], top_n=top_n), BASE + dt.timedelta(days=1), fast=fast)
        rows = [r for r in fetch(con, "marts.funnel_breakdown") if r["step"] == 1 and r["dimension"] == "channel"]
        assert {r["breakdown_value"]: r["reached"] for r in rows} == expected
