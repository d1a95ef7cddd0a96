"""Read what a report shows from the warehouse, as small Polars frames.

The report only reads published tables (`marts.*`, `ingest.*`), so it sees one complete run.
A table that is absent (an older warehouse, a layer that has not run yet) becomes `None` and
its section says so; a table that exists but lacks a contract column is an error, because a
half-understood table would draw wrong numbers. The panel queries live in `sql/queries/report_*.sql`;
the only value bound into them is the run id.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from journey_analytics import sqlfiles
from journey_analytics.runs import counted_run_ids, unfinished_runs

# The contract columns each section reads (docs/architecture.md, "Tables").
COLUMNS: dict[str, tuple[str, ...]] = {
    "marts.funnel_steps": (
        "step", "stage", "reached", "in_progress", "dropped", "conversion_from_start",
        "conversion_from_previous", "median_s_to_convert", "p90_s_to_convert",
    ),
    "marts.funnel_time_to_convert": ("step", "stage", "bucket_index", "bucket", "customers"),
    "marts.funnel_breakdown": (
        "dimension", "breakdown_value", "step", "stage", "reached", "in_progress", "dropped",
        "conversion_from_start",
    ),
    "marts.pain_points": (
        "rank", "source", "event_name", "stage", "customers", "exits", "exit_rate", "csat_responses",
        "avg_csat", "nps_responses", "nps",
    ),
    "marts.stage_inference": (
        "source", "event_name", "proposed_stage", "share", "occurrences", "n_with_stage", "n_without_stage",
        "customers", "is_used",
    ),
    "marts.time_in_stage": (
        "stage", "visits", "customers", "completed", "open", "median_s", "p75_s", "p90_s",
        "km_median_s",
    ),
    "marts.stage_to_stage": ("from_stage", "to_stage", "customers", "median_s", "p90_s"),
    "marts.stages": ("stage_index", "stage"),
    "marts.funnel_stages": ("step", "stage"),
    "marts.path_frequencies": ("rank", "path", "customers", "share"),
    "marts.sankey_links": ("step", "source_label", "target_label", "customers"),
    "marts.run_history": ("run_id", "run_at", "as_of", "metric", "value"),
    "ingest.manifest": (
        "run_id", "source", "rows_read", "rows_loaded", "rows_deduplicated", "rows_quarantined",
    ),
    "ingest.quarantine": ("run_id", "source", "path", "line", "reason", "detail", "raw_record"),
}

_ORDER = {
    "marts.funnel_steps": "step",
    "marts.funnel_stages": "step",
    "marts.funnel_time_to_convert": "step, bucket_index",
    "marts.funnel_breakdown": "dimension, breakdown_value, step",
    "marts.pain_points": "rank nulls last, exit_rate desc, source, event_name",
    "marts.stage_inference": "is_used desc, customers desc, source, event_name",
    "marts.time_in_stage": "stage",
    "marts.path_frequencies": "rank",
    "marts.sankey_links": "step, source_label, target_label",
    "marts.run_history": "run_at, run_id, metric",
}


@dataclass(frozen=True)
class ReportData:
    """Everything one run's report draws; `None` means the table does not exist."""

    funnel_steps: pl.DataFrame | None
    time_to_convert: pl.DataFrame | None
    funnel_breakdown: pl.DataFrame | None
    pain_points: pl.DataFrame | None
    stage_inference: pl.DataFrame | None
    time_in_stage: pl.DataFrame | None
    stage_to_stage: pl.DataFrame | None
    path_frequencies: pl.DataFrame | None
    sankey_links: pl.DataFrame | None
    run_history: pl.DataFrame | None
    manifest_by_source: pl.DataFrame | None
    quarantine_by_reason: pl.DataFrame | None
    quarantine_examples: pl.DataFrame | None
    unfinished_runs: list[tuple[str, int, int]]  # runs.unfinished_runs: their files count as this run's


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    schema, name = table.split(".")
    rows = sqlfiles.query(con, "queries/table_columns", schema=schema, table=name).fetchall()
    return {r[0] for r in rows} or None


def _present(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True if the table exists with its contract columns; raise if it exists without them."""
    found = _columns(con, table)
    if found is None:
        return False
    missing = [c for c in COLUMNS[table] if c not in found]
    if missing:
        raise ValueError(
            f"{table} is missing column(s) {', '.join(missing)}; the report reads "
            f"{', '.join(COLUMNS[table])} (see docs/architecture.md)"
        )
    return True


def _select(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame | None:
    if not _present(con, table):
        return None
    sql = f"select {', '.join(COLUMNS[table])} from {table} order by {_ORDER[table]}"
    return con.sql(sql).pl()


def _query(con, table: str, query: str, run_ids: list[str]) -> pl.DataFrame | None:
    if not _present(con, table):
        return None
    return sqlfiles.relation(con, query, run_ids=run_ids).pl()


def _stage_to_stage(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """`marts.stage_to_stage`, most customers first, ties in stage order (`marts.stages`)."""
    if not (_present(con, "marts.stage_to_stage") and _present(con, "marts.stages")):
        return None
    return sqlfiles.relation(con, "queries/report_stage_to_stage").pl()


def funnel_step_names(con: duckdb.DuckDBPyConnection, stages: list[str]) -> list[str]:
    """The funnel steps in order, as the metrics wrote them (`marts.funnel_stages`: stages, or touchpoints
    `source:event_name`); `stages` when no metrics were built. Runs are compared on these."""
    steps = _select(con, "marts.funnel_stages")
    return list(stages) if steps is None or steps.is_empty() else steps["stage"].to_list()


def read_run_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """`marts.run_history` in run order, or None if no run has recorded history yet."""
    return _select(con, "marts.run_history")


def load_report_data(con: duckdb.DuckDBPyConnection, run_id: str) -> ReportData:
    """Read every table the run report draws from; the run's own numbers also count the files of the
    unfinished runs just before it (`runs.unfinished_runs`; none in a warehouse without run history)."""
    known = _present(con, "marts.run_history") and _present(con, "ingest.manifest")
    unfinished = unfinished_runs(con, run_id) if known else []
    run_ids = counted_run_ids(run_id, unfinished)
    return ReportData(
        funnel_steps=_select(con, "marts.funnel_steps"),
        time_to_convert=_select(con, "marts.funnel_time_to_convert"),
        funnel_breakdown=_select(con, "marts.funnel_breakdown"),
        pain_points=_select(con, "marts.pain_points"),
        stage_inference=_select(con, "marts.stage_inference"),
        time_in_stage=_select(con, "marts.time_in_stage"),
        stage_to_stage=_stage_to_stage(con),
        path_frequencies=_select(con, "marts.path_frequencies"),
        sankey_links=_select(con, "marts.sankey_links"),
        run_history=read_run_history(con),
        manifest_by_source=_query(con, "ingest.manifest", "queries/report_manifest_by_source", run_ids),
        quarantine_by_reason=_query(con, "ingest.quarantine", "queries/report_quarantine_by_reason", run_ids),
        quarantine_examples=_query(con, "ingest.quarantine", "queries/report_quarantine_examples", run_ids),
        unfinished_runs=unfinished,
    )
