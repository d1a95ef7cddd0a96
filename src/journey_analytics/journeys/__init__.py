"""Layer 3: give every event its customer, its place in the customer's order and its stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config
from journey_analytics.journeys.rules import property_paths, rule_tables


@dataclass(frozen=True)
class JourneyResult:
    touchpoints: int
    customers: int
    unmapped: int


def write_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Store the configured stage rules as the tables the stage SQL joins against."""
    rules, conditions = rule_tables(config)
    for name, frame in (("stage_rules", rules), ("stage_rule_conditions", conditions)):
        con.register("frame", frame.to_arrow())
        con.execute(f"create or replace table core.{name} as select * from frame")
        con.unregister("frame")


def build_touchpoints(con: duckdb.DuckDBPyConnection, config: Config, *, as_of: datetime) -> JourneyResult:
    """Build core.touchpoints from core.events, core.identity_map and the stage rules."""
    write_rules(con, config)
    params = dict(as_of=as_of, property_paths=property_paths(config),
                  id_types=[t.name for t in config.identity.types])
    sqlfiles.build(con, "intermediate/event_stages", temp=True, **params)
    n = sqlfiles.build(con, "core/touchpoints", **params)
    con.execute("drop table event_stages")
    customers, unmapped = con.execute(
        "select count(distinct customer_id), count(*) filter (where stage = 'unmapped') from core.touchpoints"
    ).fetchall()[0]
    return JourneyResult(touchpoints=n, customers=customers, unmapped=unmapped)
