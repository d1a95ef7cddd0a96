"""Seconds and peak RSS of every metric model at 1e6, 1e7 and 1e8 touchpoints, as one printed table.

    uv run python benchmarks/run.py --events 1e6 1e7        # once: the pipeline warehouses
    uv run python benchmarks/metrics.py                     # 1e6 1e7 1e8, DuckDB capped at 6GB
    uv run python benchmarks/metrics.py --events 1e7 --memory-limit 8GB
    uv run python benchmarks/metrics.py --events 1e6 --path-node touchpoint --funnel-steps awareness crm:lead_created purchase

The touchpoints are the ones the whole pipeline built from generated events (`benchmarks/run.py`'s
warehouses); 1e8 is the 1e7 journeys ten times over, each copy with its own customer and event ids,
since the pipeline itself does not run at 1e8 here. Each scale's `core.touchpoints` is copied once
into `benchmarks/.data/metrics-<events>.duckdb`, which nothing else writes. Every scale runs in its
own process; a model's peak RSS is the process's highest resident memory while that model was
built (so it includes what earlier models left in DuckDB's buffer pool). Results are appended to
`benchmarks/results.csv` as layer `metrics:<model>` (`metrics[<options>]:<model>` with `--path-node` or
`--funnel-steps`, which replace the run's `paths.node` and `funnel.steps`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
AS_OF = datetime(2027, 1, 1, tzinfo=timezone.utc)  # the as_of of benchmarks/run.py
COPIES_1E8 = 10


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class PeakRss:
    """Samples this process's RSS every 20 ms; `take()` returns the peak since the last take."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.02)

    def take(self) -> float:
        peak, self.peak = max(self.peak, _rss_mb()), _rss_mb()
        return peak


def _run_folder(events: int) -> Path:
    """Where `benchmarks/run.py` keeps the data, config and warehouse of a scale (`.data/1e07`)."""
    return DATA / f"{events:.0e}".replace("+", "")


def warehouse_of(events: int) -> Path:
    """The metrics-only warehouse of one scale (`.data/metrics-1e07.duckdb`), which only this script writes."""
    return DATA / f"metrics-{_run_folder(events).name}.duckdb"


def prepare(events: int) -> tuple[Path, Path]:
    """The metrics-only warehouse of one scale (`core.touchpoints` and nothing else) and the
    config of the pipeline run its touchpoints come from."""
    source_events = 10**7 if events == 10**8 else events
    source, config = _run_folder(source_events) / "warehouse.duckdb", _run_folder(source_events) / "journey.yaml"
    if not config.exists():
        sys.exit(f"{config} is missing: run `uv run python benchmarks/run.py --events {source_events:.0e}` first")
    target = warehouse_of(events)
    if target.exists():
        return target, config
    if not source.exists() and events == 10**8:  # the 1e7 metrics warehouse holds the same touchpoints
        source = warehouse_of(source_events)
    if not source.exists():
        sys.exit(f"{source} is missing: run `uv run python benchmarks/run.py --events {source_events:.0e}` first")
    copies = COPIES_1E8 if events == 10**8 else 1
    print(f"copying core.touchpoints from {source} x{copies} into {target} ...", flush=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial))
    con.execute("attach ? as src (read_only)", [str(source)])
    con.execute("create schema core")
    con.execute(
        """
        create table core.touchpoints as
        select t.* replace (
            case when c.copy = 0 then t.customer_id else t.customer_id || '~' || c.copy end as customer_id,
            case when c.copy = 0 then t.event_id else t.event_id || '~' || c.copy end as event_id)
        from range(?) as c(copy), src.core.touchpoints as t
        """,
        [copies],
    )
    con.close()
    partial.rename(target)
    return target, config


def measure(warehouse: Path, config_path: Path, memory_limit: str, options: dict | None = None) -> list[dict]:
    """Build every mart once in this process, with `options` replacing settings; one row per model."""
    from journey_analytics import metrics
    from journey_analytics.config import load_config
    from journey_analytics.warehouse import connect

    settings = dataclasses.replace(metrics.settings_from(load_config(config_path)), **(options or {}))
    con = connect(warehouse, memory_limit=memory_limit)
    rss = PeakRss()
    rows = []
    rss.take()
    start = time.perf_counter()
    metrics.build_marts(con, settings, AS_OF, on_model=lambda name, n, s: rows.append(
        {"model": name, "rows": n, "seconds": s, "peak_rss_mb": rss.take()}))
    rows.append({"model": "all metrics", "rows": None, "seconds": time.perf_counter() - start,
                 "peak_rss_mb": max(r["peak_rss_mb"] for r in rows)})
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", nargs="+", type=float, default=[1e6, 1e7, 1e8])
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB's memory limit (default 6GB)")
    parser.add_argument("--path-node", choices=["stage", "touchpoint"], help="replace paths.node")
    parser.add_argument("--funnel-steps", nargs="+", help="replace funnel.steps (stages or source:event_name)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = {k: v for k, v in (("path_node", args.path_node),
                                 ("funnel_steps", tuple(args.funnel_steps or ()))) if v}
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), Path(args.child[1]), args.memory_limit, options)))
        return

    import machine  # benchmarks/machine.py, beside this script

    before = machine.speed()
    results = {}
    for events in map(int, args.events):
        warehouse, config_path = prepare(events)  # run.py writes the same settings at every scale
        extra = [*(["--path-node", args.path_node] if args.path_node else []),
                 *(["--funnel-steps", *args.funnel_steps] if args.funnel_steps else [])]
        out = subprocess.run([sys.executable, __file__, "--child", str(warehouse), str(config_path),
                              "--memory-limit", args.memory_limit, *extra], check=True, capture_output=True, text=True)
        results[events] = json.loads(out.stdout.strip().splitlines()[-1])
        total = results[events][-1]
        print(f"{events:>12,} touchpoints: all metrics {total['seconds']:.2f} s, peak RSS {total['peak_rss_mb']:,.0f} MB",
              flush=True)

    after = machine.speed()
    print(machine.line(before, after))
    scales = list(results)
    header = f"{'model':<34}" + "".join(f"{f'{e:.0e} s':>10}{f'{e:.0e} MB':>10}" for e in scales)
    print("\n" + header)
    for i, row in enumerate(results[scales[0]]):
        print(f"{row['model']:<34}" + "".join(
            f"{results[e][i]['seconds']:>10.2f}{results[e][i]['peak_rss_mb']:>10,.0f}" for e in scales))
    shown = {k: v if isinstance(v, str) else ",".join(v) for k, v in options.items()}
    layer = "metrics" + (f"[{' '.join(f'{k}={v}' for k, v in shown.items())}]" if options else "")
    machine.record([(events, f"{layer}:{r['model']}", r["rows"], r["seconds"], r["peak_rss_mb"])
                    for events, rows in results.items() for r in rows], before, after)

if __name__ == "__main__":
    main()
