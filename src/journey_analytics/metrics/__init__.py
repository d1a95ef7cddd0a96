"""Layer 4: build the metric marts (funnel, time in stage, paths, Sankey) from `core.touchpoints`.

Every table is one SELECT in `sql/` (`sql/core/stage_visits.sql`, `sql/marts/*.sql`); this module
only writes the stage list, binds parameters, builds the tables in dependency order and runs the
audits in `sql/audits/`. On DuckDB some tables are built by default from faster DuckDB-only forms
in `sql/marts/fast/` (`FAST`; `build_marts(..., fast=False)` uses the portable files only; a test
proves both build identical tables). Definitions of every number: `docs/metrics.md`.

Example:
    >>> import datetime as dt, duckdb
    >>> from journey_analytics.metrics import MetricSettings, build_marts
    >>> con = duckdb.connect()
    >>> # ... core.touchpoints written by layer 3 ...
    >>> counts = build_marts(con, MetricSettings(stages=("awareness", "purchase")),   # doctest: +SKIP
    ...                      as_of=dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))
    >>> counts["marts.funnel_steps"]                                                 # doctest: +SKIP
    2
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import (BREAKDOWNS, PATH_NODES, PROPERTY_KEY, Funnel, PainPoints, Paths, default_of,
                                     funnel_step_problems, is_touchpoint_label)

__all__ = [
    "AUDITS",
    "BREAKDOWNS",
    "FAST",
    "MARTS",
    "PATH_NODES",
    "AuditError",
    "MetricSettings",
    "build_marts",
    "run_audits",
    "settings_from",
    "temp_forms",
    "write_stages",
]


# Build order: each model reads only tables built before it.
MARTS = (
    "core/stage_visits",
    "marts/funnel_customer_steps",
    "marts/funnel_customers",
    "marts/funnel_steps",
    "marts/funnel_customer_attributes",
    "marts/funnel_breakdown",
    "marts/funnel_time_to_convert",
    "marts/time_in_stage",
    "marts/stage_to_stage",
    "marts/path_nodes",
    "marts/path_frequencies",
    "marts/sankey_labels",
    "marts/sankey_nodes",
    "marts/sankey_links",
    "marts/pain_points",
)

# DuckDB-only fast forms (sql/marts/fast/), used by default: model -> (temp tables built first, file).
# The portable files above stay the definition (they transpile to Spark); tests/metrics/
# test_fast_marts.py proves that both forms build identical tables. The temp tables built with
# core/stage_visits feed later forms too: customer_lists (each customer's mapped touchpoints, ordered
# once) also feeds funnel_lists; visit_rows feeds the visit-based forms (time_in_stage, stage_to_stage) and
# path_lists (each customer's path as one list), which is built with path_nodes and read by the
# path_frequencies and sankey_links forms too.
# Durations in the fast forms are differences of epoch_us: date_diff on a timestamptz goes through the
# ICU calendar and costs ~20x as much (1.1 s against 0.05 s for 3.5 M visits, measured).
FAST = {
    "core/stage_visits": (("customer_lists", "visit_rows"), "marts/fast/stage_visits"),
    "marts/funnel_customer_steps": (("funnel_lists", "funnel_scan"), "marts/fast/funnel_customer_steps"),
    "marts/funnel_customers": ((), "marts/fast/funnel_customers"),
    "marts/time_in_stage": ((), "marts/fast/time_in_stage"),
    "marts/stage_to_stage": ((), "marts/fast/stage_to_stage"),
    "marts/path_nodes": (("path_lists",), "marts/fast/path_nodes"),
    "marts/path_frequencies": ((), "marts/fast/path_frequencies"),
    "marts/sankey_links": ((), "marts/fast/sankey_links"),
    "marts/pain_points": (("pain_surveys", "pain_type_codes", "pain_customers"), "marts/fast/pain_points"),
}


# fast/funnel_scan.sql follows every attempt worth following of a customer with at most this many (the common
# case, where it is fastest), and finds the chosen one by a fold, linear in the touchpoints, for the others (a
# crawler's cookie with 100,000 touchpoints took 46 s, each attempt searching the rest of the list).
FOLD_AFTER = 32


AUDITS = (
    "audits/funnel_never_grows",
    "audits/durations_nonnegative",
    "audits/sankey_balance",
    "audits/paths_sum_to_customers",
    "audits/sankey_matches_paths",
)


@dataclass(frozen=True)
class MetricSettings:
    """What the marts measure: the ordered stages and the metric options.

    `stages` are all configured stages in order (`core.touchpoints.stage_index` numbers them from
    1); the funnel steps are `funnel_steps` if given (stages, in stage order, and touchpoint labels
    `source:event_name`), else all stages. `window_days` is the funnel window W (fractions allowed);
    `breakdown` one of `BREAKDOWNS`; `top_n` breakdown values kept before `Other`; `max_steps` path nodes kept before
    the terminal node; `paths_top_n` exact paths listed before `other paths`; `nodes_per_step`
    Sankey labels kept per step before `Other`; `goal_stage` the stage that makes a path end in
    `converted`; `path_node` what a path node is, one of `PATH_NODES`: the stage (runs of touchpoints
    of one stage) or the touchpoint label `source:event_name` (runs of touchpoints with one label).

    >>> MetricSettings(stages=("awareness", "consideration", "purchase"), window_days=14).steps
    ('awareness', 'consideration', 'purchase')
    """

    stages: tuple[str, ...]
    window_days: float = default_of(Funnel, "window_days")  # journey.yaml's defaults, defined in config only
    breakdown: str = default_of(Funnel, "breakdown")
    top_n: int = default_of(Funnel, "top_n")
    max_steps: int = default_of(Paths, "max_steps")
    paths_top_n: int = default_of(Paths, "top_n")
    nodes_per_step: int = default_of(Paths, "nodes_per_step")
    goal_stage: str = default_of(Paths, "goal_stage")
    path_node: str = default_of(Paths, "node")
    funnel_steps: tuple[str, ...] = ()
    segment_property: str | None = None  # event property holding the customer's segment (persona)
    csat_property: str = default_of(PainPoints, "csat_property")  # survey properties rated by marts.pain_points
    nps_property: str = default_of(PainPoints, "nps_property")
    pain_min_customers: int = default_of(PainPoints, "min_customers")

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "funnel_steps", tuple(self.funnel_steps or ()))
        if not stages:
            raise ValueError("metrics: `stages` is empty; list at least one stage in journey.yaml")
        if len(set(stages)) != len(stages):
            raise ValueError(f"metrics: stage names must be unique, got {list(stages)}")
        problems = funnel_step_problems(self.funnel_steps, stages)
        if problems:
            raise ValueError(f"metrics: {problems[0]}")
        window = self.window_days
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not window > 0:
            raise ValueError(f"metrics: funnel.window_days must be a number > 0, got {window!r}")
        if self.breakdown not in BREAKDOWNS:
            raise ValueError(
                f"metrics: funnel.breakdown {self.breakdown!r} is not supported; use one of {list(BREAKDOWNS)}"
            )
        for name in ("segment_property", "csat_property", "nps_property"):
            key = getattr(self, name)
            if key is not None and not re.match(PROPERTY_KEY, key):
                raise ValueError(f"metrics: {name} must be a plain property key (letters, digits, _), got {key!r}")
        if self.path_node not in PATH_NODES:
            raise ValueError(f"metrics: paths.node {self.path_node!r} is not supported; use one of {list(PATH_NODES)}")
        if self.goal_stage not in stages:
            raise ValueError(
                f"metrics: paths.goal_stage {self.goal_stage!r} is not a stage; stages are {list(stages)}"
            )
        for name in ("top_n", "max_steps", "paths_top_n", "nodes_per_step"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"metrics: {name} must be a whole number >= 1, got {value!r}")

    @property
    def steps(self) -> tuple[str, ...]:
        """The funnel steps in order: `funnel_steps`, or every stage."""
        return self.funnel_steps or self.stages

    def params(self, as_of: dt.datetime) -> dict[str, Any]:
        """The bound SQL parameters (`$as_of`, `$window_s`, ...) for this run."""
        return {
            "as_of": _utc(as_of),
            "window_s": float(self.window_days) * 86_400,
            "breakdown": self.breakdown,
            "top_n": self.top_n,
            "max_steps": self.max_steps,
            "paths_top_n": self.paths_top_n,
            "nodes_per_step": self.nodes_per_step,
            "goal_stage": self.goal_stage,
            "path_node": self.path_node,
            "segment_property": self.segment_property,
            "csat_key": self.csat_property,
            "nps_key": self.nps_property,
            "min_customers": self.pain_min_customers,
        }


class AuditError(RuntimeError):
    """An audit query returned offending rows; `audit` names it, `rows` holds (up to 20 of) them."""

    def __init__(self, audit: str, columns: list[str], rows: list[tuple]):
        self.audit, self.columns, self.rows = audit, columns, rows
        shown = "\n".join(f"  {dict(zip(columns, row))}" for row in rows[:5])
        super().__init__(f"audit {audit!r} failed: {len(rows)} offending row(s), e.g.\n{shown}")


def _utc(as_of: dt.datetime) -> dt.datetime:
    if not isinstance(as_of, dt.datetime):
        raise TypeError(f"metrics: as_of must be a datetime, got {type(as_of).__name__}")
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError(f"metrics: as_of must carry a time zone (UTC), got naive {as_of.isoformat()}")
    return as_of.astimezone(dt.timezone.utc)


def settings_from(config: Any) -> MetricSettings:
    """Settings from a loaded `journey_analytics.config.Config` (stages, funnel, paths sections)."""
    return MetricSettings(
        stages=tuple(config.stage_names),
        window_days=config.funnel.window_days,
        breakdown=config.funnel.breakdown,
        top_n=config.funnel.top_n,
        max_steps=config.paths.max_steps,
        paths_top_n=config.paths.top_n,
        nodes_per_step=config.paths.nodes_per_step,
        goal_stage=config.paths.goal_stage,
        path_node=config.paths.node,
        funnel_steps=tuple(config.funnel.steps or ()),
        segment_property=config.funnel.segment,
        csat_property=config.pain_points.csat_property,
        nps_property=config.pain_points.nps_property,
        pain_min_customers=config.pain_points.min_customers,
    )


# The two small tables the settings define; the column types read the same in DuckDB and Spark DDL.
STAGE_TABLES = {
    "marts.stages": "stage_index int, stage string",
    "marts.funnel_stages": "step int, stage string, stage_index int",
}


def stage_rows(settings: MetricSettings) -> dict[str, list[tuple]]:
    """The rows of `STAGE_TABLES`: every stage (1-based, configured order) and the funnel steps (1-based;
    a touchpoint step `source:event_name` has no stage index)."""
    return {
        "marts.stages": list(enumerate(settings.stages, start=1)),
        "marts.funnel_stages": [(step, name, settings.stages.index(name) + 1 if name in settings.stages else None)
                                for step, name in enumerate(settings.steps, start=1)],
    }


def write_stages(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> None:
    """Create `marts.stages(stage_index, stage)` and `marts.funnel_stages(step, stage, stage_index)`."""
    con.execute("create schema if not exists marts")
    for table, rows in stage_rows(settings).items():
        con.execute(f"create or replace table {table} ({STAGE_TABLES[table]})")  # names: the constant above
        con.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)


def _check_stages(con: duckdb.DuckDBPyConnection, stages: tuple[str, ...]) -> None:
    """Fail early when `core.touchpoints` numbers its stages differently from the settings."""
    found = sqlfiles.query(con, "queries/stage_numbering_mismatches").fetchall()
    if found:
        shown = ", ".join(f"{i}={name!r} (expected {exp!r})" for i, name, exp in found[:5])
        raise ValueError(
            f"metrics: core.touchpoints stage numbering does not match the configured stages "
            f"{list(stages)}: {shown}; rebuild the journeys layer with the same stages"
        )


def run_audits(con: duckdb.DuckDBPyConnection) -> None:
    """Run the metric audits (`AUDITS`, in `sql/audits/`); raise `AuditError` for the first one
    that returns rows (each returns its offending rows; zero rows = pass)."""
    for audit in AUDITS:
        cursor = sqlfiles.query(con, audit)
        rows = cursor.fetchmany(20)
        if rows:
            columns = [d[0] for d in cursor.description]
            raise AuditError(audit, columns, rows)


def temp_forms(settings: MetricSettings) -> dict[str, str]:
    """The file of each temp table whose form follows the settings. Path nodes and funnel steps that are
    stages come from the stage lists (customer_lists, visit_rows); touchpoint path nodes, or a touchpoint
    among the funnel steps, are listed per customer from core.touchpoints once more, as label codes or steps."""
    touchpoint_steps = any(map(is_touchpoint_label, settings.steps))
    return {
        "path_lists": "marts/fast/" + ("touchpoint_" if settings.path_node == "touchpoint" else "") + "path_lists",
        "funnel_lists": "marts/fast/" + ("touchpoint_" if touchpoint_steps else "") + "funnel_lists",
    }


def _build_fast(con: duckdb.DuckDBPyConnection, name: str, forms: dict[str, str], **params: Any) -> int:
    """Build the table of model `name` from its fast form in `FAST`, helper temp tables first (from `forms`
    where the settings choose their file)."""
    temps, fast = FAST[name]
    for temp in temps:
        sqlfiles.build(con, f"marts/{temp}", temp=True, sql_name=forms.get(temp, f"marts/fast/{temp}"), **params)
    return sqlfiles.build(con, name, sql_name=fast, **params)


def build_marts(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings, as_of: dt.datetime, *, fast: bool = True,
    on_model: Callable[[str, int, float], None] | None = None,
) -> dict[str, int]:
    """Build `core.stage_visits` and every `marts.*` table from `core.touchpoints`, then audit them.

    With `fast=True` (the default) the models in `FAST` are built from their DuckDB-only fast forms
    (`sql/marts/fast/`, some temp tables as `temp_forms` picks); `fast=False` builds every table from the
    portable files only. Both give identical tables. Returns the row count per table, e.g.
    `{"marts.stages": 5, ...}`.
    `on_model(name, rows, seconds)` hears about each model as it is built, then `("audits", 0, s)`.
    Raises `AuditError` naming the failing audit, or `ValueError` for inconsistent settings.
    """
    params = settings.params(as_of) | {"fold_after": FOLD_AFTER}
    write_stages(con, settings)
    _check_stages(con, settings.stages)
    counts = {"marts.stages": len(settings.stages), "marts.funnel_stages": len(settings.steps)}
    forms = temp_forms(settings)
    for name in MARTS:
        start = time.perf_counter()
        if fast and name in FAST:
            rows = _build_fast(con, name, forms, **params)
        else:
            rows = sqlfiles.build(con, name, **params)
        counts[name.replace("/", ".")] = rows
        if on_model:
            on_model(name, rows, time.perf_counter() - start)
    if fast:
        for temp in {t for temps, _ in FAST.values() for t in temps}:
            con.execute(f"drop table if exists temp.main.{temp}")
    start = time.perf_counter()
    run_audits(con)
    if on_model:
        on_model("audits", 0, time.perf_counter() - start)
    return counts
