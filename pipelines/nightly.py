"""The nightly run, one Prefect task per layer, each a thin call into journey_analytics; and the
backfill, one nightly run per past night.

Runs against the API Prefect is configured with, else its ephemeral local one (`journey run` and the
backfill start theirs in pipelines/local_api.py). A source that fails (a missing column, an unreadable
file) is reported and the other sources still load, but the marts and the report are then left as the
previous run published them and the flow run ends Failed (`SourcesFailed`, carrying the run's summary).
Any other error stops the run where it happens.

No `from __future__ import annotations` here: a served deployment runs the flow from a copy that
keeps only the globals its body uses, so Prefect could not resolve parameter types written as text.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.logging.handlers import PrefectConsoleHandler
from prefect.states import Failed

from journey_analytics import identity, ingest, journeys, metrics, reports
from journey_analytics.config import Config, ConfigError, Source, load_config
from journey_analytics.console import say
from journey_analytics.identity import IdentityResult
from journey_analytics.interrupts import interrupted
from journey_analytics.journeys import JourneyResult
from journey_analytics.ingest.salt import remember_salt
from journey_analytics.runs import Run, record_history, unfinished_runs
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect, damaged, tells_damage, transaction


class Warehouse:
    """The open warehouse, handed to tasks by reference.

    Prefect keeps a task's parameters alive after the run (for its state); a holder lets the flow
    close and drop the connection itself when it is done, whatever Prefect retains.
    """

    def __init__(self, path: Path, memory_limit: str | None = None):
        self.con: duckdb.DuckDBPyConnection | None = connect(path, memory_limit=memory_limit)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()  # an uncommitted transaction is rolled back
            self.con = None


@dataclass
class RunSummary:
    run: Run
    files: list[ingest.FileResult] = field(default_factory=list)
    failed_sources: dict[str, str] = field(default_factory=dict)
    identity: IdentityResult | None = None
    journeys: JourneyResult | None = None
    marts: dict[str, int] = field(default_factory=dict)
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_sources


class SourcesFailed(Exception):
    """Ends the flow run Failed when a source failed (after the other sources loaded), so a
    scheduler, the Prefect UI and a backfill see it; `summary` keeps what the run did."""

    def __init__(self, summary: RunSummary):
        self.summary = summary
        failed = "; ".join(f"{name}: {why}" for name, why in summary.failed_sources.items())
        super().__init__(f"source(s) failed, so the marts and report stay as the previous run published them: {failed}")


class RunStopped(Exception):
    """A run that could not finish for a reason outside the data: the message says what stays, why, and what to do
    (one line from the command, exit 1); the run ends Failed."""


class ReportNotWritten(RunStopped):
    """The run published its marts, but its report could not be written (a full disk, a folder gone)."""


class WarehouseNotWritten(RunStopped):
    """The warehouse could not be written (a full disk, a file size limit): what the run was writing was
    rolled back."""


class OutOfMemory(RunStopped):
    """DuckDB ran out of memory within `memory_limit` while rebuilding: nothing of the rebuild was published."""


# Failures whose message says what failed and why (a task's DuckDB I/O or memory error is turned into a RunStopped
# by the flow; a ConfigError, such as another hashing salt, names the key and the fix).
SAYS_WHY = (SourcesFailed, RunStopped, ConfigError, duckdb.IOException, duckdb.OutOfMemoryException)


def _says_why(exc: BaseException | None) -> bool:
    """A failure whose message the command prints as its last line: one in `SAYS_WHY`, or DuckDB finding the
    warehouse file damaged (`nightly` says so)."""
    return isinstance(exc, SAYS_WHY) or (isinstance(exc, duckdb.Error) and tells_damage(str(exc)))


class _NoNeedlessTraceback(logging.Filter):
    """Tracebacks that say nothing the message does not: Prefect logs a task that returns a Failed
    state with exc_info=True although nothing was raised (a stray "NoneType: None"); a failure in `SAYS_WHY`;
    and whatever fails once Ctrl-C arrived (the command says it was interrupted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and (record.exc_info[0] is None or _says_why(record.exc_info[1]) or interrupted()):
            record.exc_info = None
        return True


for _logger in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_logger).addFilter(_NoNeedlessTraceback())


class _ToldByTheCommand(logging.Filter):
    """A task's or flow's error record of what the command tells itself: a source's failure (in its summary:
    any error record of an `ingest_source` task), a failure in `SAYS_WHY` (its last line), anything once a
    signal stopped it (its one line). Prefect logged each three times over before the command's own line.
    Records without the exception (a task's final state) are known by its name in their message."""

    NAMES = tuple(f"{kind.__name__}{end}" for told in SAYS_WHY for kind in (told, *told.__subclasses__())
                  for end in ("(", ":"))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.name.startswith(("prefect.task_runs", "prefect.flow_runs")):
            return True
        if interrupted() or (record.exc_info is not None and _says_why(record.exc_info[1])):
            return False
        if getattr(record, "task_name", None) == ingest_source.name:  # the run's summary says FAILED and why
            return False
        message = record.getMessage()
        return not any(name in message for name in self.NAMES) and not tells_damage(message)


def quiet_console() -> None:
    """For a command that tells the run's outcome itself (`journey run`, the backfill): keep `_ToldByTheCommand`'s
    records off the console. The Prefect server still receives them, and a served run's console keeps them."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(isinstance(f, _ToldByTheCommand)
                                                                  for f in handler.filters):
            handler.addFilter(_ToldByTheCommand())


def _file_done(progress: Callable[[str], None]) -> Callable[[ingest.FileResult], None]:
    def report(r: ingest.FileResult) -> None:
        get_run_logger().info("%s %s: read %d, loaded %d, deduplicated %d, quarantined %d%s%s", r.source, r.path,
                              r.rows_read, r.rows_loaded, r.rows_deduplicated, r.rows_quarantined,
                              " (gone)" if r.gone else " (unchanged, skipped)" if r.skipped else "",
                              f"; note: {r.note}" if r.note else "")
        if not r.skipped:
            progress(f"    {r.path}: {r.rows_read:,} read, {r.rows_loaded:,} loaded, {r.rows_deduplicated:,} deduplicated, "
                     f"{r.rows_quarantined:,} quarantined")
    return report


@task(cache_policy=NO_CACHE)
def ingest_source(wh: Warehouse, config: Config, source: Source, run: Run,
                  on_file: Callable[[ingest.FileResult], None]) -> list[ingest.FileResult]:
    """Read one source's new files into core.events; `on_file` hears of each file as it is committed.

    A source with a file that cannot be read (SourceError) ends the task Failed with the reason as its message
    and no exception (a traceback would pin the open warehouse connection until the process exits); its other
    files are read and stay loaded, and `on_file` has heard of them. Any other error is raised.
    """
    try:
        return ingest.ingest_source(wh.con, config, source, run_id=run.run_id, now=run.run_at, on_file=on_file)
    except SourceError as exc:
        return Failed(message=str(exc))


@task(cache_policy=NO_CACHE)
def stitch_identities(wh: Warehouse, config: Config, run: Run) -> identity.IdentityResult:
    """Connected components of identifiers → core.identity_map."""
    return identity.stitch(wh.con, config, as_of=run.as_of)


@task(cache_policy=NO_CACHE)
def assign_stages(wh: Warehouse, config: Config, run: Run) -> journeys.JourneyResult:
    """Customer, order and stage of every event → core.touchpoints."""
    return journeys.build_touchpoints(wh.con, config, as_of=run.as_of)


SHOWN_FROM_S = 1.0  # a metric model that takes this long is shown as the run goes


@task(cache_policy=NO_CACHE)
def compute_metrics(wh: Warehouse, config: Config, run: Run, progress: Callable[[str], None]) -> dict[str, int]:
    """Funnel, time in stage, paths, Sankey → marts.*; audits must pass; run history appended.

    Logs each model with its rows and seconds as it is built, and shows those that took a second or more
    (minutes in all at 1e8 touchpoints: the console is not silent meanwhile)."""
    logger = get_run_logger()

    def built_one(name: str, rows: int, secs: float) -> None:
        logger.info("%s: %s rows in %.2f s", name, f"{rows:,}", secs)
        if secs >= SHOWN_FROM_S:
            progress(f"    {name}: {f'{rows:,} rows in ' if name != 'audits' else ''}{secs:.1f} s")

    built = metrics.build_marts(wh.con, metrics.settings_from(config), run.as_of, on_model=built_one)
    built["marts.run_history"] = record_history(wh.con, run, config.funnel_definition)
    return built


@task(cache_policy=NO_CACHE)
def render_report(wh: Warehouse, config: Config, run: Run) -> Path:
    """The run's self-contained HTML report, reports/latest and the index."""
    try:
        return reports.render_run_report(
            wh.con, config.reports_path, run_id=run.run_id, run_at=run.run_at, as_of=run.as_of,
            title=config.report.title, stages=list(config.stage_names), timezone=config.report.timezone,
            path_node=config.paths.node, window_days=config.funnel.window_days, breakdown=config.funnel.breakdown,
            goal_stage=config.paths.goal_stage,
            max_steps=config.paths.max_steps, csat_property=config.pain_points.csat_property,
            nps_property=config.pain_points.nps_property, keep_runs=config.report.keep_runs,
            sources=config.source_names,
        )
    except OSError as exc:
        traceback.clear_frames(exc.__traceback__)  # they hold the connection, which Prefect's state would keep
        raise ReportNotWritten(
            f"{exc.filename or config.reports_path}: the report of run {run.run_id} could not be written "
            f"({exc.strerror or exc}), though its marts are published. Free space or fix the folder, then run "
            "again: it rebuilds the marts as of its own time and writes their report.") from None
    except duckdb.OutOfMemoryException as exc:  # after the marts are committed: not the rebuild's `OutOfMemory`
        traceback.clear_frames(exc.__traceback__)
        raise ReportNotWritten(
            f"the report of run {run.run_id} could not be written, though its marts are published: DuckDB ran out "
            f"of memory within memory_limit ({config.memory_limit or 'its default, 80 % of RAM'}) reading them "
            f"({str(exc).splitlines()[0].rstrip('.')}). Raise `memory_limit` in journey.yaml, or free memory, then "
            "run again.") from None


@flow(name="journey-nightly")
def nightly(
    config_path: str = "journey.yaml",
    as_of: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Ingest every source, then rebuild identities, journeys and marts in one transaction, then write the report."""
    progress = progress or say
    config = load_config(config_path)
    run = Run.start(as_of)
    summary = RunSummary(run)
    progress(f"run {run.run_id}: as of {run.as_of:%Y-%m-%d %H:%M:%S} UTC, warehouse {config.warehouse_path}")
    wh = Warehouse(config.warehouse_path, config.memory_limit)
    try:
        _publish(wh, config, run, summary, progress)
    except duckdb.Error as exc:  # the disk or the file, not the data
        traceback.clear_frames(exc.__traceback__)  # they hold the connection, which Prefect's state would keep
        if said := damaged(config.warehouse_path, exc):
            raise WarehouseNotWritten(said) from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            raise OutOfMemory(
                f"DuckDB ran out of memory within memory_limit ({config.memory_limit or 'its default, 80 % of RAM'}):"
                f" {str(exc).splitlines()[0].rstrip('.')}. Nothing of the rebuild is published: the marts and report "
                "stay as the previous run published them, and each file loaded in full stays loaded. Raise "
                "`memory_limit` in journey.yaml, or free memory, then run again.") from None
        if not isinstance(exc, (duckdb.IOException, duckdb.TransactionException, duckdb.FatalException)):
            raise  # FatalException: a checkpoint that failed for space, after which DuckDB refuses the file
        raise WarehouseNotWritten(
            f"{config.warehouse_path}: the warehouse could not be written ({exc}). What the run was writing is "
            "rolled back: the marts and report stay as the previous run published them, and each file loaded in "
            "full before stays loaded. Free space on that disk, then run again."
            + "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))) from None  # files that failed before
    finally:
        wh.close()
    return summary


def _publish(wh: Warehouse, config: Config, run: Run, summary: RunSummary, progress: Callable[[str], None]) -> None:
    """The run's work, filling `summary`: ingest every source, then rebuild and publish, then the report."""
    remember_salt(wh.con, config)
    for earlier, files, loaded in unfinished_runs(wh.con, run.run_id):
        progress(f"note: run {earlier} ended before publishing marts (stopped, or a source or an audit failed): "
                 f"the {files:,} file(s) it loaded ({loaded:,} rows) count with this run's")
    for i, source in enumerate(config.sources, start=1):
        progress(f"[ingest {i}/{len(config.sources)}] {source.name} ({source.format})")
        files: list[ingest.FileResult] = []  # as each is committed: a failed source keeps those before it
        report = _file_done(progress)
        state = ingest_source(wh, config, source, run, lambda r: (files.append(r), report(r)), return_state=True)
        summary.files += files
        if state.is_failed():
            if isinstance(raised := state.result(raise_on_failure=False), BaseException):
                raise raised  # not the source's fault (an interrupt, a full disk): the run stops here
            summary.failed_sources[source.name] = state.message
            progress(f"    {source.name}: FAILED — {state.message}")
            continue
        new = [f for f in files if not f.skipped]
        progress(f"    {len(new)} new or changed file(s) of {sum(not f.gone for f in files)}: "
                 f"{sum(f.rows_read for f in new):,} rows read, {sum(f.rows_loaded for f in new):,} loaded, "
                 f"{sum(f.rows_deduplicated for f in new):,} deduplicated, {sum(f.rows_quarantined for f in new):,} "
                 "quarantined")
    if not summary.ok:
        progress("marts and report left as the previous run published them: fix the failed source(s) and rerun")
        raise SourcesFailed(summary)
    with transaction(wh.con):  # a crash or a failed audit leaves the previous complete state
        summary.identity = stitch_identities(wh, config, run)
        set_aside = summary.identity.conflicts
        progress(f"[identity] {summary.identity.identifiers:,} identifiers → {summary.identity.customers:,} customers"
                 + (f" ({set_aside} super-node(s) set aside: each a customer of its own, with touchpoints only from "
                    "events that carry nothing else)" if set_aside else ""))
        summary.journeys = assign_stages(wh, config, run)
        progress(f"[journeys] {summary.journeys.touchpoints:,} touchpoints of {summary.journeys.customers:,} "
                 f"customers with a touchpoint, {summary.journeys.inferred:,} staged by inference, "
                 f"{summary.journeys.unmapped:,} "
                 f"unmapped, {summary.journeys.sessions:,} sessions")
        if idle := summary.journeys.idle_rules:
            progress(f"  note: {len(idle)} stage rule(s) map no event: {', '.join(idle[:5])}"
                     f"{f' and {len(idle) - 5} more' if len(idle) > 5 else ''}; their values match no event (a "
                     "misspelt name?), or an earlier rule takes every event they match")
        for source, events in summary.journeys.undeclared:
            progress(f"  note: the warehouse holds {events:,} events of source {source!r}, which journey.yaml no "
                     f"longer declares: left out of the journeys. Declare it again to count them, or delete them "
                     f"with `journey sources reset {source} --force` (after renaming a source, its old name)")
        summary.marts = compute_metrics(wh, config, run, progress)
    # said once committed: an interrupt before this line leaves the previous run's marts (its message says so)
    progress(f"[metrics] {len(summary.marts)} tables built, audits passed, published")
    summary.report = render_report(wh, config, run)
    progress(f"[report] {summary.report}")


def backfill_nights(start: date, end: date, zone: str) -> list[datetime]:
    """The as-of of each night from `start` to `end`: that day's midnight in `zone`, as UTC."""
    return [datetime.combine(start + timedelta(days=d), time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
            for d in range((end - start).days + 1)]


@flow(name="journey-backfill")
def backfill(start: date, end: date, config_path: str = "journey.yaml") -> list[RunSummary]:
    """One nightly run (a subflow) per day from `start` to `end` inclusive, oldest first, each as of
    that day's midnight in `report.timezone` (the zone the report shows dates in); stops at the first night
    that fails."""
    if end < start:
        raise ValueError(f"backfill: --to {end} is before --from {start}")
    nights = backfill_nights(start, end, load_config(config_path).report.timezone)
    summaries = []
    for night in nights:
        try:
            summaries.append(nightly(config_path=config_path, as_of=night))
        except Exception as exc:
            exc.night = night  # which night failed, for the command's message
            raise
    return summaries
