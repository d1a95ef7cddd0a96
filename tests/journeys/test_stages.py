"""Stage rules: first match wins, globs and property tests, and values that are never SQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from journey_analytics.identity import stitch
from journey_analytics.journeys import build_touchpoints
from journey_analytics.journeys.rules import glob_to_like
from journey_analytics.warehouse import connect
from tests.helpers import insert_events, write_config

T0 = datetime(2026, 8, 1, tzinfo=timezone.utc)
AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)

STAGES = [
    {"name": "awareness", "rules": [{"event_name": ["ad_click", "blog_*"]}]},
    {"name": "consideration", "rules": [
        {"event_name": "page_view", "properties": {"page": {"in": ["pricing", "product"]}}},
        {"event_name": "page_view", "properties": {"url": {"like": "%/compare/%"}}},
    ]},
    {"name": "purchase", "rules": [{"source": "crm", "event_name": {"regex": "^order_"}}]},
    {"name": "post_purchase", "rules": [{"source_kind": "service"}]},
    {"name": "advocacy", "rules": [{"event_name": "it's'); drop table core.events; --"}]},
]


@pytest.fixture
def staged(tmp_path):
    def run(events):
        config = write_config(tmp_path, stages=STAGES)
        con = connect(":memory:")
        insert_events(con, [
            (src, f"e{i}", T0 + timedelta(minutes=i), name, {"anonymous_id": "a1"}, json.dumps(props))
            for i, (src, name, props) in enumerate(events)
        ], source_priority={"web": 1, "crm": 2, "service": 3})
        stitch(con, config, as_of=AS_OF)
        build_touchpoints(con, config, as_of=AS_OF)
        return con, con.execute("select event_name, stage, stage_index, stage_source from core.touchpoints "
                                "order by event_seq").fetchall()
    return run


def test_rules_map_by_name_glob_property_source_and_kind(staged):
    _, rows = staged([
        ("web", "blog_view", {}),
        ("web", "page_view", {"page": "pricing"}),
        ("web", "page_view", {"page": "home"}),
        ("web", "page_view", {"url": "https://x/compare/a-vs-b"}),
        ("crm", "order_placed", {}),
        ("web", "order_placed", {}),  # regex rule is for source crm only
        ("service", "ticket_opened", {}),
        ("web", "blogger", {}),  # blog_* needs the underscore
    ])
    assert rows == [
        ("blog_view", "awareness", 1, "rule"),
        ("page_view", "consideration", 2, "rule"),
        ("page_view", "unmapped", None, "unmapped"),
        ("page_view", "consideration", 2, "rule"),
        ("order_placed", "purchase", 3, "rule"),
        ("order_placed", "unmapped", None, "unmapped"),
        ("ticket_opened", "post_purchase", 4, "rule"),
        ("blogger", "unmapped", None, "unmapped"),
    ]


def test_the_first_matching_rule_wins(tmp_path):
    stages = [{"name": "awareness", "rules": [{"source_kind": "service"}]},
              {"name": "post_purchase", "rules": [{"source_kind": "service"}]}]
    config = write_config(tmp_path, stages=stages, paths={"goal_stage": "awareness"})
    con = connect(":memory:")
    insert_events(con, [("service", "e1", T0, "ticket", {"anonymous_id": "a"})])
    stitch(con, config, as_of=AS_OF)
    result = build_touchpoints(con, config, as_of=AS_OF)
    assert con.execute("select stage from core.touchpoints").fetchall() == [("awareness",)]
    assert result.idle_rules == ("stages[1].rules[0]",)  # the first rule takes every event it would match


def test_the_rules_that_map_no_event_are_named(staged, tmp_path):
    """A misspelt value in a rule (`page_veiw`) left its events unmapped, or inferred into another stage,
    with nothing said: a run names the rules that map no event."""
    con, _ = staged([("web", "blog_view", {}), ("crm", "order_placed", {}), ("service", "ticket", {})])
    config = write_config(tmp_path, stages=STAGES)
    assert build_touchpoints(con, config, as_of=AS_OF).idle_rules == (
        "stages[1].rules[0]", "stages[1].rules[1]", "stages[4].rules[0]")


def test_a_rule_value_with_quotes_and_sql_matches_literally_and_changes_nothing(staged):
    hostile = "it's'); drop table core.events; --"
    con, rows = staged([("web", hostile, {}), ("web", "its", {})])
    assert rows == [(hostile, "advocacy", 5, "rule"), ("its", "unmapped", None, "unmapped")]
    assert con.execute("select count(*) from core.events").fetchall() == [(2,)]


def test_events_after_as_of_are_not_touchpoints(tmp_path):
    config = write_config(tmp_path)
    con = connect(":memory:")
    insert_events(con, [("web", "e1", AS_OF, "ad_click", {"anonymous_id": "a"}),
                        ("web", "e2", AS_OF + timedelta(seconds=1), "ad_click", {"anonymous_id": "a"})])
    stitch(con, config, as_of=AS_OF)
    build_touchpoints(con, config, as_of=AS_OF)
    assert con.execute("select event_id from core.touchpoints").fetchall() == [("e1",)]


def test_ties_in_time_are_ordered_by_source_priority_then_event_id(tmp_path):
    config = write_config(tmp_path)
    con = connect(":memory:")
    ids = {"anonymous_id": "a"}
    insert_events(con, [("service", "s1", T0, "ticket", ids), ("web", "w2", T0, "ad_click", ids),
                        ("web", "w1", T0, "ad_click", ids)], source_priority={"web": 1, "service": 3})
    stitch(con, config, as_of=AS_OF)
    build_touchpoints(con, config, as_of=AS_OF)
    assert con.execute("select event_id from core.touchpoints order by event_seq").fetchall() == [
        ("w1",), ("w2",), ("s1",)]


@pytest.mark.parametrize("glob, like", [("review_*", "review\\_%"), ("a?c", "a_c"), ("100%", "100\\%")])
def test_globs_become_escaped_like_patterns(glob, like):
    assert glob_to_like(glob) == like
