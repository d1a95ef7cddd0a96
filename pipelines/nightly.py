"""The nightly run: one Prefect task per layer, each a thin call into journey_analytics.

Runs against Prefect's ephemeral local API when no server is configured. A source that fails
(a missing column, an unreadable file) is reported and the other sources still load, but the
marts and the report are then left as the previous run published them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from journey_analytics import identity, ingest, journeys, metrics, reports
from journey_analytics.config import Config, Source, load_config
from journey_analytics.runs import Run, record_history
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect


@dataclass
class RunSummary:
    run: Run
    files: list[ingest.FileResult] = field(default_factory=list)
    failed_sources: dict[str, str] = field(default_factory=dict)
    identity: identity.IdentityResult | None = None
    journeys: journeys.JourneyResult | None = None
    marts: dict[str, int] = field(default_factory=dict)
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_sources


@task(cache_policy=NO_CACHE)
def ingest_source(con: duckdb.DuckDBPyConnection, config: Config, source: Source, run: Run) -> list[ingest.FileResult]:
    """Read one source's new files into core.events; logs rows read, loaded, deduplicated, quarantined."""
    results = ingest.ingest_source(con, config, source, run_id=run.run_id, now=run.run_at)
    for r in results:
        get_run_logger().info("%s %s: read %d, loaded %d, deduplicated %d, quarantined %d%s", r.source, r.path,
                              r.rows_read, r.rows_loaded, r.rows_deduplicated, r.rows_quarantined,
                              " (unchanged, skipped)" if r.skipped else "")
    return results


@task(cache_policy=NO_CACHE)
def stitch_identities(con: duckdb.DuckDBPyConnection, config: Config, run: Run) -> identity.IdentityResult:
    """Connected components of identifiers → core.identity_map."""
    return identity.stitch(con, config, as_of=run.as_of)


@task(cache_policy=NO_CACHE)
def assign_stages(con: duckdb.DuckDBPyConnection, config: Config, run: Run) -> journeys.JourneyResult:
    """Customer, order and stage of every event → core.touchpoints."""
    return journeys.build_touchpoints(con, config, as_of=run.as_of)


@task(cache_policy=NO_CACHE)
def compute_metrics(con: duckdb.DuckDBPyConnection, config: Config, run: Run) -> dict[str, int]:
    """Funnel, time in stage, paths, Sankey → marts.*; audits must pass; run history appended."""
    built = metrics.build_marts(con, metrics.settings_from(config), run.as_of)
    built["marts.run_history"] = record_history(con, run)
    return built


@task(cache_policy=NO_CACHE)
def render_report(con: duckdb.DuckDBPyConnection, config: Config, run: Run) -> Path:
    """The run's self-contained HTML report, reports/latest and the index."""
    return reports.render_run_report(
        con, config.reports_path, run_id=run.run_id, run_at=run.run_at, as_of=run.as_of,
        title=config.report.title, stages=list(config.stage_names), timezone=config.report.timezone,
    )


@flow(name="journey-nightly")
def nightly(
    config_path: str = "journey.yaml",
    as_of: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Ingest every source, then rebuild identities, journeys, marts and the report in one transaction."""
    progress = progress or print
    config = load_config(config_path)
    run = Run.start(as_of)
    summary = RunSummary(run)
    progress(f"run {run.run_id}: as of {run.as_of:%Y-%m-%d %H:%M:%S} UTC, warehouse {config.warehouse_path}")
    con = connect(config.warehouse_path)
    try:
        for i, source in enumerate(config.sources, start=1):
            try:
                files = ingest_source(con, config, source, run)
            except SourceError as exc:
                summary.failed_sources[source.name] = str(exc)
                progress(f"[ingest {i}/{len(config.sources)}] {source.name}: FAILED — {exc}")
                continue
            summary.files += files
            new = [f for f in files if not f.skipped]
            progress(f"[ingest {i}/{len(config.sources)}] {source.name}: {len(new)} new file(s), "
                     f"{sum(f.rows_read for f in new):,} rows read, {sum(f.rows_loaded for f in new):,} loaded, "
                     f"{sum(f.rows_quarantined for f in new):,} quarantined")
        if not summary.ok:
            progress("marts and report left as the previous run published them: fix the failed source(s) and rerun")
            return summary
        con.execute("begin transaction")  # readers see the previous complete state until commit
        summary.identity = stitch_identities(con, config, run)
        progress(f"[identity] {summary.identity.identifiers:,} identifiers → {summary.identity.customers:,} customers "
                 f"({summary.identity.conflicts} super-node(s) set aside)")
        summary.journeys = assign_stages(con, config, run)
        progress(f"[journeys] {summary.journeys.touchpoints:,} touchpoints of {summary.journeys.customers:,} customers, "
                 f"{summary.journeys.inferred:,} staged by inference, {summary.journeys.unmapped:,} unmapped, "
                 f"{summary.journeys.sessions:,} sessions")
        summary.marts = compute_metrics(con, config, run)
        progress(f"[metrics] {len(summary.marts)} tables built, audits passed")
        con.execute("commit")
        summary.report = render_report(con, config, run)
        progress(f"[report] {summary.report}")
    finally:
        con.close()  # an uncommitted transaction is rolled back: the previous state stays published
    return summary
