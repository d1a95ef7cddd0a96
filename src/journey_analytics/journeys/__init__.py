"""Layer 3: give every event its customer, its place in the customer's order and its stage; group the
clickstream into sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from journey_analytics import sqlfiles
from journey_analytics.config import Config
from journey_analytics.journeys.rules import property_paths, rule_tables


@dataclass(frozen=True)
class JourneyResult:
    touchpoints: int
    customers: int
    unmapped: int  # left unmapped after inference
    inferred: int  # touchpoints whose stage was inferred
    sessions: int
    idle_rules: tuple[str, ...] = ()  # the stage rules that map no touchpoint, as `stages[i].rules[j]`
    undeclared: tuple[tuple[str, int], ...] = ()  # (source, events) stored of sources journey.yaml no longer names


def write_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Store the configured stages and their rules as the tables the stage SQL joins against."""
    rules, conditions = rule_tables(config)
    stages = pl.DataFrame({"stage_index": range(1, len(config.stages) + 1), "stage": list(config.stage_names)},
                          schema={"stage_index": pl.Int32, "stage": pl.String})
    for name, frame in (("stages", stages), ("stage_rules", rules), ("stage_rule_conditions", conditions)):
        con.register("frame", frame.to_arrow())
        con.execute(f"create or replace table core.{name} as select * from frame")
        con.unregister("frame")


def build_touchpoints(con: duckdb.DuckDBPyConnection, config: Config, *, as_of: datetime) -> JourneyResult:
    """Build core.touchpoints (rules, then inference), marts.stage_inference and core.sessions."""
    write_rules(con, config)
    params = dict(as_of=as_of, property_paths=property_paths(config),
                  id_types=[t.name for t in config.identity.types], sources=list(config.source_names))
    sqlfiles.build(con, "intermediate/event_stages", temp=True, **params)
    n = sqlfiles.build(con, "core/touchpoints", **params)
    con.execute("drop table event_stages")
    sqlfiles.build(con, "marts/stage_inference", min_share=config.inference.min_share,
                   min_customers=config.inference.min_customers)
    sqlfiles.run_script(con, "core/touchpoints_inferred")
    sessions = sqlfiles.build(con, "core/sessions", timeout_s=config.sessions.timeout_minutes * 60,
                              max_s=config.sessions.max_hours * 3600)
    customers, unmapped, inferred = sqlfiles.query(con, "queries/touchpoint_counts").fetchall()[0]
    rules = [f"stages[{i}].rules[{j}]" for i, stage in enumerate(config.stages) for j in range(len(stage.rules))]
    idle = tuple(rules[rule_id - 1] for (rule_id,) in sqlfiles.query(con, "queries/idle_rules").fetchall())
    undeclared = tuple(sqlfiles.query(con, "queries/undeclared_sources", sources=params["sources"]).fetchall())
    return JourneyResult(n, customers, unmapped, inferred, sessions, idle, undeclared)
