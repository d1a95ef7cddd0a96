"""Floors under any metrics build's time: what ordering the touchpoints once and storing the per-customer
tables cost on this machine, doing nothing else.

    uv run python benchmarks/metrics.py --events 1e7 1e8     # once: builds every table this script copies
    uv run python benchmarks/metrics_floor.py --events 1e7 1e8

Each step is timed alone in a fresh process per scale, DuckDB capped at 6 GB as in `metrics.py`:
- group: one count per customer of the mapped touchpoints (the cheapest per-customer pass);
- gather: each customer's mapped touchpoints as three lists, event seq, stage index and time, unordered
  (what the one ordered pass of the fast forms starts with; putting them in order costs more);
- sort: the same columns as a table sorted by (customer, event), the other way to order them once;
- write: each per-visit and per-customer table the marts expose, copied from a temp table into a new
  DuckDB file, committed and checkpointed: the rows a build must write whatever computes them.
A build that keeps those tables cannot take less than gather + write (docs/performance.md compares this
with the issue's targets). Results are appended to `benchmarks/results.csv` as layer `metrics_floor:<step>`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
# The per-visit and per-customer tables of docs/metrics.md (core.stage_visits is layer 3's, ARCHITECTURE.md).
PER_CUSTOMER = ("core.stage_visits", "marts.funnel_customer_steps", "marts.funnel_customers",
                "marts.funnel_customer_attributes", "marts.path_nodes")
MAPPED = "from core.touchpoints where stage_index is not null"
PASSES = {
    "group: a count per customer": f"select customer_id, count(*) as n {MAPPED} group by customer_id",
    "gather: three lists per customer": f"""select customer_id, list(event_seq) as seqs, list(stage_index) as stages,
        list(occurred_at) as times {MAPPED} group by customer_id""",
    "sort: (customer, event) order": f"""select customer_id, event_seq, stage_index, occurred_at {MAPPED}
        order by customer_id, event_seq""",
}


def measure(warehouse: Path, memory_limit: str) -> list[dict]:
    """Time every pass and every write once, in this process."""
    rows = []
    with tempfile.TemporaryDirectory(dir=warehouse.parent) as scratch:  # the same disk
        con = duckdb.connect(str(Path(scratch) / "scratch.duckdb"))
        con.execute(f"set memory_limit = '{memory_limit}'")
        con.execute(f"attach '{warehouse}' as built (read_only)")
        con.execute("use built")
        for step, select in PASSES.items():
            start = time.perf_counter()
            con.execute(f"create temp table passed as {select}")
            rows.append({"step": step, "seconds": time.perf_counter() - start,
                         "rows": con.execute("select count(*) from passed").fetchone()[0]})
            con.execute("drop table passed")
        con.execute("use scratch")
        for table in PER_CUSTOMER:
            con.execute(f"create temp table copied as select * from built.{table}")
            start = time.perf_counter()
            con.execute("create table written as select * from copied")
            con.execute("checkpoint")
            rows.append({"step": f"write: {table}", "seconds": time.perf_counter() - start,
                         "rows": con.execute("select count(*) from written").fetchone()[0]})
            con.execute("drop table written")
            con.execute("drop table copied")
        con.close()
    writes = sum(r["seconds"] for r in rows if r["step"].startswith("write"))
    gather = next(r["seconds"] for r in rows if r["step"].startswith("gather"))
    rows.append({"step": "floor: gather + every write", "seconds": gather + writes, "rows": None})
    return rows


def _has_built_marts(warehouse: Path) -> bool:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) = 2 from duckdb_tables() where schema_name || '.' || table_name"
                           f" in {list(PER_CUSTOMER[:1] + PER_CUSTOMER[-1:])}").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", nargs="+", type=float, default=[1e7, 1e8])
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB's memory limit (default 6GB)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), args.memory_limit)))
        return

    sys.path.insert(0, str(HERE))
    import machine  # benchmarks/machine.py and metrics.py, beside this script
    import metrics

    results = {}
    before = machine.speed()
    for events in map(int, args.events):
        warehouse = metrics.warehouse_of(events)
        if not warehouse.exists() or not _has_built_marts(warehouse):
            sys.exit(f"{warehouse} has no built marts: "
                     f"run `uv run python benchmarks/metrics.py --events {events:.0e}` first")
        out = subprocess.run([sys.executable, __file__, "--child", str(warehouse), "--memory-limit", args.memory_limit],
                             check=True, capture_output=True, text=True)
        results[events] = json.loads(out.stdout.strip().splitlines()[-1])
    after = machine.speed()
    print(f"{'events':>12}  {'step':<46}{'rows':>14}{'seconds':>9}")
    for events, rows in results.items():
        for r in rows:
            shown = "" if r["rows"] is None else f"{r['rows']:,}"
            print(f"{events:>12,}  {r['step']:<46}{shown:>14}{r['seconds']:>9.2f}")
    print(machine.line(before, after))
    machine.record([(events, f"metrics_floor:{r['step']}", r["rows"], r["seconds"], None)
                    for events, rows in results.items() for r in rows], before, after)


if __name__ == "__main__":
    main()
