"""Stage inference on the sample, against the stages the generator knows, and sessions by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from journey_analytics.identity import stitch
from journey_analytics.ingest import ingest_source
from journey_analytics.journeys import build_touchpoints
from journey_analytics.warehouse import connect
from tests.conftest import SAMPLE_AS_OF
from tests.helpers import ROOT, insert_events, sample_config_dict, write_config

LEFT_OUT = ("webinar_attended", "newsletter_signup", "checkout_started")


@pytest.fixture(scope="module")
def sample_without_some_rules(tmp_path_factory):
    raw = sample_config_dict()
    for stage in raw["stages"]:
        for rule in stage["rules"]:
            if isinstance(rule.get("event_name"), list):
                rule["event_name"] = [e for e in rule["event_name"] if e not in LEFT_OUT]
    sources = [s | {"path": str(ROOT / s["path"])} for s in raw["sources"]]
    config = write_config(tmp_path_factory.mktemp("inference"), stages=raw["stages"], sources=sources)
    con = connect(config.warehouse_path)
    for source in config.sources:
        ingest_source(con, config, source, run_id="r1", now=SAMPLE_AS_OF)
    stitch(con, config, as_of=SAMPLE_AS_OF)
    result = build_touchpoints(con, config, as_of=SAMPLE_AS_OF)
    yield con, result
    con.close()


def test_events_left_out_of_the_rules_are_inferred_to_their_true_stage(sample_without_some_rules):
    con, result = sample_without_some_rules
    truth = pl.read_parquet(ROOT / "data" / "sample" / "ground_truth" / "events.parquet")
    true_stage = dict(truth.select("event_name", "true_stage").unique().iter_rows())
    proposals = {name: (stage, used) for name, stage, used in con.execute(
        "select event_name, proposed_stage, is_used from marts.stage_inference").fetchall()}
    for name in LEFT_OUT:
        assert proposals[name] == (true_stage[name], True), name
    inferred = con.execute("select event_name, stage, count(*) from core.touchpoints where stage_source = 'inferred' "
                           "group by all order by 1").fetchall()
    expected = truth.filter(pl.col("event_name").is_in(LEFT_OUT)).group_by("event_name", "true_stage").len().sort("event_name")
    assert inferred == list(expected.iter_rows())
    assert result.inferred == sum(n for *_, n in inferred)


def test_a_proposal_without_enough_customers_is_listed_but_not_used(tmp_path):
    config = write_config(tmp_path, inference={"min_share": 0.6, "min_customers": 3})
    con = connect(":memory:")
    t0 = datetime(2026, 8, 1, tzinfo=timezone.utc)
    events = []
    for i, customers in enumerate((["a", "b", "c"], ["d", "e"])):
        for c in customers:  # a pricing view (consideration), then an unknown event
            events += [("web", f"{c}1", t0, "pricing_view", {"anonymous_id": c}),
                       ("web", f"{c}2", t0 + timedelta(minutes=1), f"mystery_{i}", {"anonymous_id": c})]
    insert_events(con, events)
    stitch(con, config, as_of=SAMPLE_AS_OF)
    build_touchpoints(con, config, as_of=SAMPLE_AS_OF)
    rows = con.execute("select event_name, proposed_stage, share, customers, is_used from marts.stage_inference "
                       "order by 1").fetchall()
    assert rows == [("mystery_0", "consideration", 1.0, 3, True), ("mystery_1", "consideration", 1.0, 2, False)]


def test_sessions_split_on_the_timeout_and_the_24_hour_cap(tmp_path):
    config = write_config(tmp_path, sessions={"timeout_minutes": 30, "max_hours": 24})
    con = connect(":memory:")
    t0 = datetime(2026, 8, 1, tzinfo=timezone.utc)
    minutes = [0, 10, 39, 70,  # 0-10-39 one session (gaps 10, 29); 70 is 31 min later: new session
               100, 129, 158]  # joins the 70 session: gaps 30? no: 100-70 = 30 → new session (gap >= timeout)
    ids = {"anonymous_id": "a"}
    events = [("web", f"w{m}", t0 + timedelta(minutes=m), "page", ids) for m in minutes]
    # a bot-like run: one event every 20 minutes for 30 hours → one gap-session cut at 24 h
    events += [("web", f"b{i}", t0 + timedelta(days=3, minutes=20 * i), "page", ids) for i in range(91)]
    events.append(("crm", "k1", t0 + timedelta(minutes=5), "lead_created", ids))  # not a clickstream event
    insert_events(con, events, source_priority={"web": 1, "crm": 2})
    stitch(con, config, as_of=SAMPLE_AS_OF)
    build_touchpoints(con, config, as_of=SAMPLE_AS_OF)
    sessions = con.execute("select session_seq, n_events, duration_s from core.sessions order by session_seq").fetchall()
    assert sessions == [(1, 3, 39 * 60.0), (2, 1, 0.0), (3, 3, 58 * 60.0),
                        (4, 72, 71 * 20 * 60.0), (5, 19, 18 * 20 * 60.0)]


def test_suggested_rules_paste_back_into_the_stages(sample_without_some_rules):
    import yaml

    from journey_analytics.journeys.suggest import suggested_rules

    con, _ = sample_without_some_rules
    truth = pl.read_parquet(ROOT / "data" / "sample" / "ground_truth" / "events.parquet")
    true_stage = dict(truth.select("event_name", "true_stage").unique().iter_rows())
    suggested = yaml.safe_load(suggested_rules(con))
    rules = {r["event_name"]: (stage["name"], r["source"]) for stage in suggested for r in stage["rules"]}
    assert rules == {name: (true_stage[name], "web") for name in LEFT_OUT}


def test_suggested_rules_match_only_the_event_they_name_and_data_cannot_inject_yaml():
    import duckdb
    import yaml

    from journey_analytics.config import Condition
    from journey_analytics.journeys.rules import _condition_rows
    from journey_analytics.journeys.suggest import suggested_rules

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.stage_inference as select * from (values
        ('web', 'faq?', 'awareness', 1, 1.0, 10, 10, 10, true),
        ('web', '50%_off*', 'awareness', 1, 1.0, 10, 10, 10, true),
        ('web', '🎉 signup', 'awareness', 1, 1.0, 10, 10, 10, true),
        ('web', e'weird\n- name: hacked\n  rules: [{source_kind: clickstream}]\n#', null, null, null, 3, 0, 3, false),
        ('web', 'odd' || chr(8232) || '- name: hacked2' || chr(133) || '#', null, null, null, 3, 0, 3, false)
    ) as t(source, event_name, proposed_stage, proposed_stage_index, share, occurrences, n_with_stage, customers,
           is_used)""")
    suggested = yaml.safe_load(suggested_rules(con))
    assert [stage["name"] for stage in suggested] == ["awareness"]  # the newline in a name stays in a comment
    conditions = [Condition.model_validate(rule["event_name"]) for rule in suggested[0]["rules"]]
    for condition, name, other in zip(conditions, ["50%_off*", "faq?", "🎉 signup"], ["50x off now", "faqs", "signup"]):
        ((op, pattern),) = _condition_rows(condition, globs=True)
        matches = "select ? like ? escape '\\'" if op == "like" else "select ? = ?"
        assert con.execute(matches, [name, pattern]).fetchall() == [(True,)]
        assert con.execute(matches, [other, pattern]).fetchall() == [(False,)]
