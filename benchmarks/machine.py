"""How fast this machine is today, so tables measured on different days can be compared.

    uv run python benchmarks/machine.py

Machines of the same type differ by up to ~3x between days (docs/performance.md), so every benchmark
prints these two reference timings with its table: a plain Python loop (one core) and a DuckDB hash
aggregate (all cores), each the best of three runs.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

RESULTS = Path(__file__).resolve().parent / "results.csv"


def _best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _python_loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def speed(scale: float = 1.0) -> dict[str, float]:
    """Seconds for `python_loop` (2e7 additions) and `duckdb_group_by` (1e7 rows into 1e6 groups)."""
    con = duckdb.connect()
    rows, loop = int(1e7 * scale), int(2e7 * scale)
    con.execute(f"create table t as select i from range({rows}) t(i)")  # a table: range() is read by one thread
    group_by = f"select count(*) from (select i % {max(rows // 10, 1)} as k, count(*) from t group by k)"
    return {"python_loop": _best(lambda: _python_loop(loop)),
            "duckdb_group_by": _best(lambda: con.execute(group_by).fetchall())}


def line(*results: dict[str, float]) -> str:
    """The timings as one line; several results (say before and after a benchmark) as ranges."""
    def shown(key: str) -> str:
        low, high = min(r[key] for r in results), max(r[key] for r in results)
        return f"{low:.2f} s" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f} s"
    return (f"machine: Python loop of 2e7 additions {shown('python_loop')}, DuckDB group-by of 1e7 rows "
            f"{shown('duckdb_group_by')} (compare with the figures of a table in docs/performance.md)")


def record(rows: list[tuple], before: dict[str, float], after: dict[str, float], path: Path = RESULTS) -> None:
    """Append a benchmark's rows (events, layer, rows, seconds, peak RSS MB or None) to results.csv,
    stamped with the time and core count, followed by the reference timings taken before and after."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with path.open("a", newline="") as fh:
        writer = csv.writer(fh)
        for events, layer, n, seconds, peak in rows:
            writer.writerow([stamp, os.cpu_count(), events, layer, n if n is not None else "", f"{seconds:.3f}",
                             "" if peak is None else f"{peak:.0f}"])
        for when, speed in (("before", before), ("after", after)):
            for reference, seconds in speed.items():
                writer.writerow([stamp, os.cpu_count(), "", f"machine:{reference}:{when}", "", f"{seconds:.3f}", ""])


if __name__ == "__main__":
    print(line(speed()))
