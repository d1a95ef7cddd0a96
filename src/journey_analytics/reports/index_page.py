"""`reports/index.html`: every run folder, newest first, with its headline numbers.

The list is the folders on disk (what an analyst can actually open), the numbers come from
`marts.run_history`, else from the folder's own `run.json` (written with its report, so the folders
keep their times and numbers after the warehouse is rebuilt from scratch). A folder with neither still
gets a row, ordered by its file time. The page is plain HTML: no plotly, no script.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import polars as pl

from . import html
from .summary import run_metrics, run_times, same_funnel
from .text import DASH, as_utc, esc_html, fmt_int, fmt_pct, fmt_time

LATEST = "latest"
RUN_FILE = "run.json"  # beside each run's index.html: its times and headline numbers
MAX_RUN_FILE_BYTES = 1_000_000  # ours are about 1 KB


@dataclass(frozen=True)
class RunEntry:
    """One run folder and what history says about it (empty metrics if nothing)."""

    run_id: str
    run_at: datetime | None
    as_of: datetime | None
    sort_at: datetime
    metrics: dict[str, float] = field(default_factory=dict)


def list_runs(out_dir: Path, history: pl.DataFrame | None,
              known: dict[str, tuple[datetime, datetime]] | None = None) -> list[RunEntry]:
    """Run folders under `out_dir` (each with an index.html), newest first.

    Run and data times come from history, else from `known` ({run_id: (run_at, as_of)}, for the
    run being rendered), else from the folder's run.json, else the folder is placed by its file time
    and shows no times. Numbers come from history, else from run.json.
    """
    times = {r["run_id"]: (r["run_at"], r["as_of"]) for r in run_times(history).to_dicts()}
    times = {**(known or {}), **times}
    folders = sorted(p for p in Path(out_dir).iterdir() if p.is_dir()) if Path(out_dir).is_dir() else []
    entries = []
    for folder in folders:
        report = folder / "index.html"
        if folder.name == LATEST or not report.is_file():
            continue
        saved = read_run_file(folder)
        run_at, as_of = times.get(folder.name) or (saved.get("run_at"), saved.get("as_of"))
        fallback = datetime.fromtimestamp(report.stat().st_mtime, tz=dt_timezone.utc)
        entries.append(RunEntry(
            run_id=folder.name, run_at=run_at, as_of=as_of, sort_at=as_utc(run_at) if run_at else fallback,
            metrics=run_metrics(history, folder.name) or saved.get("metrics", {}),
        ))
    return sorted(entries, key=lambda e: (e.sort_at, e.run_id), reverse=True)


def run_file_text(run_at: datetime, as_of: datetime, metrics: dict[str, float]) -> str:
    """The run.json of a run folder."""
    return json.dumps({"run_at": as_utc(run_at).isoformat(), "as_of": as_utc(as_of).isoformat(),
                       "metrics": metrics}, indent=1, sort_keys=True)


def read_run_file(folder: Path) -> dict:
    """A folder's run.json as {"run_at", "as_of", "metrics"}; {} if missing, damaged or not one we
    wrote (one bad file must not stop the index, nor the run that rewrites it)."""
    path = folder / RUN_FILE
    try:
        if path.stat().st_size > MAX_RUN_FILE_BYTES:
            return {}
        saved = json.loads(path.read_text(encoding="utf-8"))
        metrics = {str(k): float(v) for k, v in saved["metrics"].items() if v is not None}
        times = [as_utc(datetime.fromisoformat(saved[k])).astimezone(dt_timezone.utc) for k in ("run_at", "as_of")]
        if not all(1900 <= t.year <= 9000 for t in times):  # shown in any zone without overflowing
            return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
        return {}
    return {"run_at": times[0], "as_of": times[1],
            "metrics": {k: v for k, v in metrics.items() if math.isfinite(v) and abs(v) < 1e15}}


def _reached(metrics: dict[str, float], stage: str, newest: dict[str, float]) -> str:
    if not same_funnel(metrics, newest):
        return "<span class=\"muted\">other funnel</span>"
    pct = metrics.get(f"conversion_from_start:{stage}")
    n = metrics.get(f"reached:{stage}")
    if pct is None and n is None:
        return DASH
    return f"{fmt_pct(pct)}<br><span class=\"muted\">{fmt_int(n)}</span>"


def runs_index_html(entries: list[RunEntry], *, title: str, steps: list[str], tz: ZoneInfo) -> str:
    """The index page, a column for each funnel step after the first; links are relative so the
    folder can be moved or zipped whole."""
    head = ["Run", "Run at", "Events", "Customers", "Rows it quarantined"] + [
        f"Reached {esc_html(s)}" for s in steps[1:]]
    newest = entries[0].metrics if entries else {}
    rows = [
        [f"<a href=\"{esc_html(quote(e.run_id))}/index.html\">{esc_html(e.run_id)}</a>",
         f"{esc_html(fmt_time(e.run_at, tz))}<br><span class=\"muted\">as of "
         f"{esc_html(fmt_time(e.as_of, tz))}</span>",
         fmt_int(e.metrics.get("events")), fmt_int(e.metrics.get("customers")),
         fmt_int(e.metrics.get("rows_quarantined"))] + [_reached(e.metrics, s, newest) for s in steps[1:]]
        for e in entries
    ]
    body = [f"<header>\n<h1>{esc_html(title)}</h1>\n<p class=\"meta\">{len(entries)} run report(s), newest "
            f"first. Times in {esc_html(str(tz))}. “Reached” is the share of customers who started the "
            "funnel (and how many); “other funnel”: the run's funnel had other steps, another window or other "
            "stage rules than the newest run's, so its shares measure something else.</p>"]
    if entries:
        body.append(f"<nav><a href=\"{LATEST}/index.html\">Open the latest report</a></nav>")
    body.append("</header>\n<section id=\"runs\">")
    body.append(html.table(head, rows, set(range(2, len(head))), col_class={0: "when", 1: "time"})
                if rows
                else "<p class=\"empty\">No run reports yet.</p>")
    body.append("</section>")
    css = "<style>.muted{color:var(--muted);font-size:13px}</style>\n"
    return html.page(f"{title} — all runs", "\n".join(body), css)
