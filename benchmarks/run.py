"""Time and peak memory of each layer at several event volumes, as one printed table.

    uv run python benchmarks/run.py                     # 1e6 and 1e7 events
    uv run python benchmarks/run.py --events 1e6 1e7 1e8

Data comes from the sample generator (`journey_analytics.sample.generate_stream`, fixed seed) and
is cached under `benchmarks/.data/<events>/`. Each layer runs in its own process, so its peak RSS
is its own; layers run in pipeline order on the same warehouse. Results are appended to
`benchmarks/results.csv` with the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LAYERS = ("ingest", "identity", "journeys", "metrics")
AS_OF = datetime(2027, 1, 1, tzinfo=timezone.utc)
SOURCE_FILES = {"web": "clickstream/*.jsonl", "crm": "crm/*.csv", "service": "service/*.csv"}


def prepare(events: int, folder: Path | None = None) -> Path:
    """Generate the data once (in `folder`, by default `.data/<events>/`), and a config whose
    warehouse starts empty."""
    from journey_analytics.sample import generate_stream

    folder = folder or HERE / ".data" / f"{events:.0e}".replace("+", "")
    data = folder / "data"
    if not (data / "done").exists():
        print(f"generating {events:,} events into {data} ...", flush=True)
        generate_stream(data, events=events)
        (data / "done").write_text("ok")
    raw = yaml.safe_load((ROOT / "journey.yaml").read_text())
    for source in raw["sources"]:
        source["path"] = str(data / SOURCE_FILES[source["name"]])
    raw["warehouse"] = str(folder / "warehouse.duckdb")
    raw["reports_dir"] = str(folder / "reports")
    for suffix in ("", ".wal"):
        Path(raw["warehouse"] + suffix).unlink(missing_ok=True)
    (folder / "journey.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder / "journey.yaml"


def run_layer(layer: str, config_path: Path) -> dict:
    """Run one layer in this process; return rows processed and seconds."""
    from journey_analytics import identity, ingest, journeys, metrics
    from journey_analytics.config import load_config
    from journey_analytics.warehouse import connect

    config = load_config(config_path)
    con = connect(config.warehouse_path, memory_limit=config.memory_limit)
    start = time.perf_counter()
    if layer == "ingest":
        results = [r for s in config.sources for r in ingest.ingest_source(con, config, s, run_id="bench", now=AS_OF)]
        rows = sum(r.rows_read for r in results)
    elif layer == "identity":
        rows = identity.stitch(con, config, as_of=AS_OF).identifiers
    elif layer == "journeys":
        rows = journeys.build_touchpoints(con, config, as_of=AS_OF).touchpoints
    else:
        metrics.build_marts(con, metrics.settings_from(config), AS_OF)
        rows = con.execute("select count(*) from core.touchpoints").fetchall()[0][0]
    seconds = time.perf_counter() - start
    con.close()
    return {"rows": rows, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--layers", nargs="+", choices=LAYERS, default=list(LAYERS))
    parser.add_argument("--layer", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.layer:  # child process
        print(json.dumps(run_layer(args.layer, args.config)))
        return

    import machine  # benchmarks/machine.py, beside this script

    before = machine.speed()
    table = []
    for events in map(int, args.events):
        config_path = prepare(events)
        for layer in LAYERS:  # every layer runs: later ones need the earlier ones' tables
            out = subprocess.run([sys.executable, __file__, "--layer", layer, "--config", str(config_path)],
                                 check=True, capture_output=True, text=True, env=os.environ)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if layer in args.layers:
                table.append({"events": events, "layer": layer, **result})
                print(f"{events:>12,} {layer:<10} {result['rows']:>12,} rows {result['seconds']:>8.2f} s "
                      f"{result['rows'] / result['seconds']:>12,.0f} rows/s {result['peak_rss_mb']:>8,.0f} MB", flush=True)

    after = machine.speed()
    print(machine.line(before, after))
    print(f"\n{'events':>12}  {'layer':<10}{'rows':>12}{'seconds':>10}{'rows/s':>13}{'peak RSS MB':>13}")
    for r in table:
        print(f"{r['events']:>12,}  {r['layer']:<10}{r['rows']:>12,}{r['seconds']:>10.2f}"
              f"{r['rows'] / r['seconds']:>13,.0f}{r['peak_rss_mb']:>13,.0f}")
    machine.record([(r["events"], r["layer"], r["rows"], r["seconds"], r["peak_rss_mb"]) for r in table],
                   before, after)

if __name__ == "__main__":
    main()
