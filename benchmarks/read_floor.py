"""Floors under any ingest's time: how fast the ingest benchmark's files can merely be read, and be
read and stored in a DuckDB file, doing nothing else.

    uv run python benchmarks/read_floor.py                  # 1e7 events (the ingest target's scale)
    uv run python benchmarks/read_floor.py --events 1e6 1e7

The files are the ones `benchmarks/run.py` ingests (web JSON lines, CRM and service CSV); every value
is read as text, as the ingest reads it. No validation, hashing, deduplication or mapping:
- parse: three column readers (DuckDB's, Polars', pyarrow's; multi-threaded C++ or Rust) each parse
  every file into memory, one file at a time; the fastest reader per format, together, is the floor;
- parse + store: DuckDB reads each source's files straight into a table of a new DuckDB file, in
  one statement per source, committed and checkpointed.
An ingest that must also do the rest cannot beat these on the same machine (docs/performance.md
compares them with the >= 1M rows/s target). Results are appended to `benchmarks/results.csv` as
layer `read_floor:<reader>:<format>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pyarrow
import pyarrow.csv
import pyarrow.json

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402  (beside this script)
import run  # noqa: E402

FORMATS = {"jsonl": ("web",), "csv": ("crm", "service")}  # format -> the benchmark's sources in it


def _columns(path: Path) -> list[str]:
    """A CSV file's header, or the keys of a JSON-lines file's first line (the generator writes
    every key on every line)."""
    with path.open(newline="") as fh:
        return list(json.loads(fh.readline())) if path.suffix == ".jsonl" else next(csv.reader(fh))


def _duckdb_reader(fmt: str, paths: list[Path]) -> str:
    """DuckDB's reader of these files (one format, one header) with every column as text."""
    if fmt == "csv":
        return f"read_csv({[str(p) for p in paths]}, all_varchar = true)"
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in _columns(paths[0]))
    return f"read_json({[str(p) for p in paths]}, format = 'newline_delimited', columns = {{{columns}}})"


def _duckdb(fmt: str) -> Callable[[Path], int]:
    con = duckdb.connect()

    def read(path: Path) -> int:
        con.execute(f"create or replace temp table t as select * from {_duckdb_reader(fmt, [path])}")
        return con.execute("select count(*) from t").fetchall()[0][0]
    return read


def _polars(fmt: str) -> Callable[[Path], int]:
    if fmt == "jsonl":
        return lambda p: pl.read_ndjson(p, schema={c: pl.String for c in _columns(p)}).height
    return lambda p: pl.read_csv(p, infer_schema=False).height


def _pyarrow(fmt: str) -> Callable[[Path], int]:
    def text(p: Path) -> dict:
        return {c: pyarrow.string() for c in _columns(p)}
    if fmt == "jsonl":
        return lambda p: pyarrow.json.read_json(p, parse_options=pyarrow.json.ParseOptions(
            explicit_schema=pyarrow.schema(text(p)))).num_rows
    return lambda p: pyarrow.csv.read_csv(p, convert_options=pyarrow.csv.ConvertOptions(
        column_types=text(p), strings_can_be_null=True)).num_rows


READERS: dict[str, Callable[[str], Callable[[Path], int]]] = {"duckdb": _duckdb, "polars": _polars, "pyarrow": _pyarrow}


def files(config_path: Path) -> dict[str, dict[str, list[Path]]]:
    """The benchmark's data files per format and source."""
    data = config_path.parent / "data"
    return {fmt: {s: sorted(data.glob(run.SOURCE_FILES[s])) for s in sources} for fmt, sources in FORMATS.items()}


def _store(sources: dict[str, list[Path]], fmt: str) -> int:
    """Read each source's files into a table of a new DuckDB file; rows stored."""
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "floor.duckdb"))
        for source, paths in sources.items():
            con.execute(f"create table {source} as select * from {_duckdb_reader(fmt, paths)}")
        con.execute("checkpoint")
        stored = sum(con.execute(f"select count(*) from {s}").fetchall()[0][0] for s in sources)
        con.close()
    return stored


def measure(config_path: Path) -> list[dict]:
    """Rows and seconds of every reader over every format's files, then of the floors."""
    rows = []
    for fmt, sources in files(config_path).items():
        paths = [p for group in sources.values() for p in group]
        for name, make in READERS.items():
            read = make(fmt)
            start = time.perf_counter()
            rows.append({"reader": name, "format": fmt, "rows": sum(read(p) for p in paths),
                         "seconds": time.perf_counter() - start})
        start = time.perf_counter()
        rows.append({"reader": "duckdb, stored", "format": fmt, "rows": _store(sources, fmt),
                     "seconds": time.perf_counter() - start})
    parse = [min((r for r in rows if r["format"] == fmt and r["reader"] in READERS), key=lambda r: r["seconds"])
             for fmt in FORMATS]
    stored = [r for r in rows if r["reader"] == "duckdb, stored"]
    for floor, parts in (("floor: parse", parse), ("floor: parse + store", stored)):
        rows.append({"reader": floor, "format": "all", "rows": sum(r["rows"] for r in parts),
                     "seconds": sum(r["seconds"] for r in parts)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", nargs="+", type=float, default=[1e7])
    args = parser.parse_args()
    before = machine.speed()
    table = [{"events": events, **r} for events in map(int, args.events) for r in measure(run.prepare(events))]
    after = machine.speed()
    print(f"{'events':>12}  {'reader':<22}{'format':<8}{'rows':>12}{'seconds':>9}{'rows/s':>12}")
    for r in table:
        print(f"{r['events']:>12,}  {r['reader']:<22}{r['format']:<8}{r['rows']:>12,}{r['seconds']:>9.2f}"
              f"{r['rows'] / r['seconds']:>12,.0f}")
    print(machine.line(before, after))
    machine.record([(r["events"], f"read_floor:{r['reader']}:{r['format']}", r["rows"], r["seconds"], None)
                    for r in table], before, after)


if __name__ == "__main__":
    main()
