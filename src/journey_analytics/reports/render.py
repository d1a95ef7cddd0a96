"""Write a run's report, refresh `latest/`, and rebuild the index of runs.

Each file is written to a temporary name and then renamed over the old one, so someone who
opens a report mid-run sees the previous complete page or the new one, never half a page.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from journey_analytics.config import Funnel, PainPoints, Paths, Report, default_of
from journey_analytics.runs import RUN_ID

from .data import funnel_step_names, load_report_data, read_run_history
from .index_page import LATEST, RUN_FILE, RunEntry, list_runs, run_file_text, runs_index_html
from .run_page import RunInfo, run_report_html
from .summary import run_metrics, run_times
from .text import as_utc

_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_run_id(run_id: str) -> None:
    """A run id becomes a folder name: no path separators, no '..', not 'latest'."""
    if not _SAFE_RUN_ID.match(run_id) or ".." in run_id or run_id == LATEST:
        raise ValueError(
            f"run_id {run_id!r} cannot be a report folder name; use letters, digits, '.', '_' or '-' "
            f"(e.g. 20250312T020000Z-1a2b), and not {LATEST!r}"
        )


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename (a temp file a killed writer left beside it is removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def render_runs_index(con: duckdb.DuckDBPyConnection, out_dir: Path, *, title: str, stages: list[str],
                      timezone: str) -> Path:
    """Rewrite `out_dir/index.html` and point `latest/` at the newest run; return the index path."""
    return _write_index(read_run_history(con), Path(out_dir), title=title, steps=funnel_step_names(con, stages),
                        timezone=timezone, known={})


def _write_index(history: pl.DataFrame | None, out_dir: Path, *, title: str, steps: list[str], timezone: str,
                 known: dict[str, tuple[datetime, datetime]], keep_runs: int | None = None) -> Path:
    """The index, `latest/`, and run.json of the run in `known` (its times and numbers as the index shows
    them) and of folders written before run.json existed, while history still knows them. With `keep_runs`,
    the reports of runs with older data than the `keep_runs` newest are deleted first (`_prune`)."""
    for name in ("index.html", RUN_FILE):  # a run's file half-written when its writer was killed
        for stale in out_dir.glob(f"*/.{name}.*.tmp"):
            if stale.is_file():
                stale.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    stale.parent.rmdir()  # only when nothing else is in the folder
    entries = list_runs(out_dir, history, known)
    if keep_runs is not None:
        entries = _prune(out_dir, entries, history, keep_runs, keep=set(known))
    for entry in entries:
        run_file = out_dir / entry.run_id / RUN_FILE
        if entry.run_id in known:  # rewritten from history, not from the run.json it replaces
            write_atomic(run_file, run_file_text(entry.run_at, entry.as_of, run_metrics(history, entry.run_id)))
        elif entry.metrics and entry.run_at and not run_file.exists():
            write_atomic(run_file, run_file_text(entry.run_at, entry.as_of, entry.metrics))
    # `latest` follows the newest run with a known time, so a folder copied in by hand never takes it over.
    newest = next((e for e in entries if e.run_at is not None), entries[0] if entries else None)
    if newest is not None:
        page = (out_dir / newest.run_id / "index.html").read_text(encoding="utf-8")
        write_atomic(out_dir / LATEST / "index.html", page)
    index = out_dir / "index.html"
    write_atomic(index, runs_index_html(entries, title=title, steps=steps, tz=ZoneInfo(timezone)))
    return index


def _prune(out_dir: Path, entries: list[RunEntry], history: pl.DataFrame | None, keep_runs: int,
           keep: set[str]) -> list[RunEntry]:
    """Delete the report (index.html, run.json) of every run after the `keep_runs` newest by data time (`as_of`,
    then run time: a backfill's nights are older than last night's run), except those in `keep`, and its folder
    when nothing else is in it; return the entries left.

    Only folders named by a run are candidates, never a symlink: a run `marts.run_history` knows, or one named as
    `Run.start` names runs (`runs.RUN_ID`) whose run.json gives its data time: a warehouse rebuilt from scratch
    forgets the runs before it, whose reports then stayed for ever. A report copied into a folder under another
    name, or linked in from elsewhere, is never touched. Deleting is best-effort: a report that cannot be deleted
    stays listed, and the run goes on."""
    known = set(run_times(history)["run_id"].to_list()) if history is not None else set()
    runs = sorted((e for e in entries if (e.run_id in known or RUN_ID.fullmatch(e.run_id)) and e.as_of is not None),
                  key=lambda e: (as_utc(e.as_of), as_utc(e.run_at)), reverse=True)
    gone = set()
    for entry in runs[keep_runs:]:
        folder = out_dir / entry.run_id
        if entry.run_id in keep or folder.is_symlink():
            continue
        with contextlib.suppress(OSError):
            for name in (RUN_FILE, "index.html"):
                (folder / name).unlink(missing_ok=True)
            gone.add(entry.run_id)
            folder.rmdir()  # only when nothing else is in the folder
    return [e for e in entries if e.run_id not in gone]


def render_run_report(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    run_id: str,
    run_at: datetime,
    as_of: datetime,
    title: str,
    stages: list[str],
    timezone: str,
    path_node: str = default_of(Paths, "node"),
    window_days: float = default_of(Funnel, "window_days"),
    breakdown: str = default_of(Funnel, "breakdown"),
    goal_stage: str = default_of(Paths, "goal_stage"),
    max_steps: int = default_of(Paths, "max_steps"),
    csat_property: str = default_of(PainPoints, "csat_property"),
    nps_property: str = default_of(PainPoints, "nps_property"),
    keep_runs: int | None = default_of(Report, "keep_runs"),
    sources: tuple[str, ...] = (),
) -> Path:
    """Render the report of run `run_id` from the marts in `con`; return `out_dir/<run_id>/index.html`.

    Also copies the newest run's report (normally this one; not when re-rendering an older run)
    to `out_dir/latest/index.html` and rewrites `out_dir/index.html`. `stages` are the configured
    stages in order (they fix the colours); `timezone` is `report.timezone`; `path_node` is `paths.node`
    (it names the paths' nodes in the text); `window_days`, `goal_stage` and `max_steps` are
    `funnel.window_days`, `paths.goal_stage` and `paths.max_steps`, `breakdown` is `funnel.breakdown` (it names the
    breakdown table when the period has none), `csat_property` and `nps_property` those of
    `pain_points` (the text states them); defaults are journey.yaml's; `keep_runs` is
    `report.keep_runs` (the reports of older runs than that many newest are deleted; None keeps all); `sources` the
    names of journey.yaml's sources (the data-quality table marks any other as left out). Runs are
    compared on the funnel steps the metrics wrote.
    """
    check_run_id(run_id)
    ZoneInfo(timezone)  # fail before writing anything if the zone is unknown
    out_dir = Path(out_dir)
    info = RunInfo(run_id=run_id, run_at=run_at, as_of=as_of, title=title, stages=list(stages),
                   timezone=timezone, steps=funnel_step_names(con, stages), path_node=path_node,
                   window_days=window_days, breakdown=breakdown, goal_stage=goal_stage, max_steps=max_steps,
                   csat_property=csat_property, nps_property=nps_property, sources=tuple(sources))
    report = out_dir / run_id / "index.html"
    fresh = not report.parent.exists()
    history, known = read_run_history(con), {run_id: (run_at, as_of)}
    page = run_report_html(load_report_data(con, run_id), info)
    try:
        try:
            write_atomic(report, page)
        except OSError as exc:  # a disk full of old reports failed every night: delete those due to go, once
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or keep_runs is None or \
                    not _make_room(out_dir, history, keep_runs, run_id, known[run_id]):
                raise
            write_atomic(report, page)
    except OSError:
        if fresh:  # a full disk left an empty folder that no index lists and no pruning removes
            with contextlib.suppress(OSError):
                report.parent.rmdir()
        raise
    _write_index(history, out_dir, title=title, steps=info.steps, timezone=timezone, known=known, keep_runs=keep_runs)
    return report


def _make_room(out_dir: Path, history: pl.DataFrame | None, keep_runs: int, run_id: str,
               times: tuple[datetime, datetime]) -> bool:
    """Delete, before run `run_id`'s report is written, the reports `_prune` deletes once it is; whether any went."""
    entries = list_runs(out_dir, history, {run_id: times})
    if run_id not in {e.run_id for e in entries}:  # its folder holds no report yet: placed where it will be
        entries.append(RunEntry(run_id=run_id, run_at=times[0], as_of=times[1], sort_at=as_utc(times[0])))
    return len(_prune(out_dir, entries, history, keep_runs, {run_id})) < len(entries)
