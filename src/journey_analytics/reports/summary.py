"""Headline numbers of a run and the plain-words change since the previous run.

Analysts read "purchase conversion −3.2 pts since the previous run", not two tables to compare.
All numbers come from `marts.run_history` (one row per run and metric). Conversions are
fractions of 1, so their change is said in percentage points; counts change by a number and a
percentage. The sentence is plain text: the caller escapes it for HTML.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import polars as pl

from .text import as_utc, fmt_int, fmt_pts, fmt_time, signed

# What the warehouse holds, compared run to run. Not `rows_quarantined`: it counts what one run quarantined from
# the files it read (none when it read none), so "−214 (−100.0%)" after a run that read no file is no change at all
COUNTS = (("customers", "customers"), ("events", "events"))


def same_funnel(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two runs' metrics come from the same funnel: the same definition (`funnel_definition`: steps,
    window, stage rules), else, for runs recorded before it, the same steps in the same order (`step:<name>`
    holds each step's number; older runs count by their `reached:<name>` names alone). A run without a
    funnel is not told apart: there is nothing of it to compare. An edit of `funnel.steps`, of
    `funnel.window_days` or of the stages makes a step's conversion measure something else, so such runs
    are not compared on it."""
    def steps(metrics: dict[str, float], prefix: str) -> dict[str, float]:
        return {m.removeprefix(prefix): v for m, v in metrics.items() if m.startswith(prefix)}

    if not steps(a, "reached:") or not steps(b, "reached:"):
        return True
    if "funnel_definition" in a and "funnel_definition" in b and a["funnel_definition"] != b["funnel_definition"]:
        return False
    if steps(a, "step:") and steps(b, "step:"):
        return steps(a, "step:") == steps(b, "step:")
    return steps(a, "reached:").keys() == steps(b, "reached:").keys()


def run_metrics(history: pl.DataFrame | None, run_id: str) -> dict[str, float]:
    """{metric: value} of one run; empty if the run recorded no history."""
    if history is None:
        return {}
    rows = history.filter(pl.col("run_id") == run_id)
    return dict(zip(rows["metric"].to_list(), rows["value"].to_list()))


def run_times(history: pl.DataFrame | None) -> pl.DataFrame:
    """One row per run: run_id, run_at, as_of (latest recorded), in data-time order (as_of, then run time)."""
    if history is None or history.is_empty():
        return pl.DataFrame(schema={"run_id": pl.String, "run_at": pl.Datetime("us", "UTC"),
                                    "as_of": pl.Datetime("us", "UTC")})
    return (history.group_by("run_id").agg(pl.col("run_at").max(), pl.col("as_of").max())
            .with_columns(pl.col("run_at", "as_of").dt.convert_time_zone("UTC"))
            .sort("as_of", "run_at", "run_id"))


def history_up_to(history: pl.DataFrame | None, run_id: str, as_of: datetime) -> pl.DataFrame | None:
    """The runs a report of `run_id` (data up to `as_of`) compares with: itself, and per earlier data
    time the run made last (a backfilled night sits at its midnight, not at the moment it was run;
    a rerun replaces its night). Later data times are left out, so re-rendering an old run shows no
    later runs."""
    if history is None:
        return None
    runs = run_times(history)
    earlier = (runs.filter((pl.col("as_of") < as_utc(as_of).astimezone(timezone.utc)) & (pl.col("run_id") != run_id))
               .group_by("as_of").agg(pl.col("run_id").sort_by("run_at", "run_id").last()))
    keep = set(earlier["run_id"].to_list()) | {run_id}
    return history.filter(pl.col("run_id").is_in(keep))


def previous_run(history: pl.DataFrame | None, run_id: str) -> tuple[str, datetime] | None:
    """The run before `run_id` in data time (the last made of those with the latest earlier as_of)
    and its as_of, or None if it is the first."""
    runs = run_times(history)
    mine = runs.filter(pl.col("run_id") == run_id)
    if mine.is_empty():
        return None
    earlier = runs.filter(pl.col("as_of") < mine["as_of"][0])
    if earlier.is_empty():
        return None
    last = earlier.row(-1, named=True)
    return last["run_id"], last["as_of"]


def no_change_reason(history: pl.DataFrame | None, run_id: str) -> str:
    """Why there is no change sentence. The previous run is chosen by data time, so a run as of an earlier
    time than every other run has none, though runs are recorded: saying "no previous run" would be false."""
    runs = run_times(history)
    if runs.filter(pl.col("run_id") != run_id).is_empty():
        return "No previous run recorded, so there is nothing to compare yet."
    if runs.filter(pl.col("run_id") == run_id).is_empty():
        return "This run's numbers are not in the run history, so there is nothing to compare."
    if previous_run(history, run_id) is None:
        return ("No run with earlier data to compare with: the other recorded runs are as of the same time or "
                "later.")
    return "The previous run recorded none of this run's headline numbers, so there is nothing to compare."


def _count_change(name: str, now: float, before: float) -> str:
    delta = now - before
    if round(delta) == 0:
        return f"{name} unchanged"
    text = f"{name} {signed(delta, fmt_int(abs(delta)))}"
    if before:
        pct = delta / before * 100
        text += f" ({signed(pct, f'{abs(pct):.1f}%')})"
    return text


def change_sentence(history: pl.DataFrame | None, run_id: str, steps: list[str], tz: ZoneInfo) -> str | None:
    """'Since the previous run (…): purchase conversion −3.2 pts; customers +120 (+4.1%).'

    `steps` are the funnel steps in order; the conversion of each one after the first is compared, unless the
    previous run's funnel was defined otherwise (`same_funnel`), when the sentence says so instead of reporting a
    change the data did not make.

    None when there is no previous run or nothing in common to compare.
    """
    prev = previous_run(history, run_id)
    if prev is None:
        return None
    now, before = run_metrics(history, run_id), run_metrics(history, prev[0])

    def both(metric: str) -> bool:
        return now.get(metric) is not None and before.get(metric) is not None

    if not same_funnel(now, before):
        conversions = ["the funnel changed (its steps, window or stage rules), so conversions are not compared"]
    else:
        conversions = [
            f"{step} conversion {fmt_pts(now[key] - before[key])}"
            for step in steps[1:]
            if both(key := f"conversion_from_start:{step}")
        ]
    counts = [_count_change(name, now[m], before[m]) for m, name in COUNTS if both(m)]
    parts = [p for p in (", ".join(conversions), ", ".join(counts)) if p]
    if not parts:
        return None
    return f"Since the previous run (as of {fmt_time(prev[1], tz)}): {'; '.join(parts)}."
