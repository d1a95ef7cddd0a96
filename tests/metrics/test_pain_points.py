"""marts.pain_points on a hand-computed log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from dataclasses import replace

from journey_analytics.metrics import build_marts, settings_from
from journey_analytics.identity import stitch
from journey_analytics.journeys import build_touchpoints
from journey_analytics.warehouse import connect
from tests.helpers import insert_events, write_config

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
AS_OF = T0 + timedelta(days=100)


def test_exits_rates_and_survey_scores(tmp_path):
    config = write_config(tmp_path)
    con = connect(":memory:")
    day = lambda d: T0 + timedelta(days=d)  # noqa: E731
    log = {
        # c1 leaves after pricing_view (inactive 99 days) — an exit
        "c1": [("web", "ad_click", 0, {}), ("web", "pricing_view", 1, {})],
        # c2 buys, opens a ticket, rates it badly and leaves: the exit and the rating go to ticket_opened
        "c2": [("web", "ad_click", 0, {}), ("web", "pricing_view", 2, {}), ("web", "order_completed", 3, {}),
               ("service", "ticket_opened", 4, {}), ("service", "survey_response", 5, {"csat": "2", "nps": "3"})],
        # c3 finishes the journey (advocacy): ending there is not leaving
        "c3": [("web", "ad_click", 0, {}), ("web", "pricing_view", 1, {}), ("web", "order_completed", 2, {}),
               ("crm", "renewal", 3, {})],
        # c4 is recent (last event 10 days before as_of, inside the 30-day window): not an exit yet
        "c4": [("web", "ad_click", 89, {}), ("web", "pricing_view", 90, {})],
        # c5 rates a ticket well, then keeps going and finishes
        "c5": [("web", "ad_click", 0, {}), ("web", "order_completed", 1, {}), ("service", "ticket_opened", 2, {}),
               ("service", "survey_response", 3, {"csat": "5", "nps": "10"}), ("crm", "renewal", 4, {})],
    }
    insert_events(con, [(src, f"{c}-{i}", day(d), name, {"anonymous_id": c}, json.dumps(props))
                        for c, events in log.items() for i, (src, name, d, props) in enumerate(events)],
                  source_priority={"web": 1, "crm": 2, "service": 3})
    stitch(con, config, as_of=AS_OF)
    build_touchpoints(con, config, as_of=AS_OF)
    build_marts(con, replace(settings_from(config), pain_min_customers=3), AS_OF)
    rows = {r[1]: r for r in con.execute(
        "select rank, event_name, customers, exits, exit_rate, csat_responses, avg_csat, nps_responses, nps "
        "from marts.pain_points").fetchall()}
    # pricing_view: c1 c2 c3 c4 → exit c1 only; ticket_opened: c2 c5 → exit c2; ratings 2 and 5, NPS (1 promoter − 1 detractor)/2
    assert rows["pricing_view"][2:5] == (4, 1, 0.25)
    assert rows["ticket_opened"][2:] == (2, 1, 0.5, 2, 3.5, 2, 0.0)
    assert rows["ad_click"][2:5] == (5, 0, 0.0)
    assert rows["ticket_opened"][0] is None and rows["renewal"][0] is None  # 2 customers < 3: listed, not ranked
    assert "survey_response" not in rows  # a survey rates a touchpoint; it is not one
    ranked = sorted((r[0], r[1]) for r in rows.values() if r[0] is not None)
    assert ranked == [(1, "pricing_view"), (2, "ad_click"), (3, "order_completed")]  # ties: by source, name
