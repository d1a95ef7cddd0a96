"""The benchmark scripts still run end to end (on a tiny generated data set), so their tables can be trusted."""

from __future__ import annotations

import importlib.util
import sys

import duckdb
import pytest

from journey_analytics.metrics import MARTS
from tests.helpers import ROOT


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_layer_and_every_metric_model_is_measured(tmp_path):
    run, metrics_bench = _script("run"), _script("metrics")
    config_path = run.prepare(20_000, tmp_path)
    results = {layer: run.run_layer(layer, config_path) for layer in run.LAYERS}
    assert 20_000 * 0.99 <= results["ingest"]["rows"] < 20_000 * 1.1  # good events plus the bad rows
    assert results["journeys"]["rows"] == results["metrics"]["rows"] > 0
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in results.values())

    # every reader, and each floor, reads every row the ingest read
    reads = _script("read_floor").measure(config_path)
    readers = {r["reader"] for r in reads}
    assert readers == {"duckdb", "polars", "pyarrow", "duckdb, stored", "floor: parse", "floor: parse + store"}
    for reader in readers:
        assert sum(r["rows"] for r in reads if r["reader"] == reader) == results["ingest"]["rows"]

    warehouse = tmp_path / "warehouse.duckdb"
    rows = metrics_bench.measure(warehouse, config_path, "1GB")
    assert [r["model"] for r in rows] == [*MARTS, "audits", "all metrics"]
    assert rows[-1]["seconds"] >= sum(r["seconds"] for r in rows[:-1])
    assert all(r["peak_rss_mb"] > 0 for r in rows)

    # the metrics floor orders every customer with a mapped touchpoint and copies each per-customer table whole
    floor = _script("metrics_floor")
    steps = {r["step"]: r for r in floor.measure(warehouse, "1GB")}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers, mapped = con.execute("select count(distinct customer_id), count(*) from core.touchpoints "
                                        "where stage_index is not null").fetchone()
        written = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in floor.PER_CUSTOMER}
    assert [steps[s]["rows"] for s in floor.PASSES] == [customers, customers, mapped]
    assert {s.removeprefix("write: "): r["rows"] for s, r in steps.items() if s.startswith("write")} == written
    assert all(written.values())
    gather = next(r["seconds"] for s, r in steps.items() if s.startswith("gather"))
    assert steps["floor: gather + every write"]["seconds"] == pytest.approx(
        gather + sum(r["seconds"] for s, r in steps.items() if s.startswith("write")))


def test_the_machine_reference_timings_are_measured_and_recorded(tmp_path):
    machine = _script("machine")
    speed = machine.speed(scale=0.001)
    assert set(speed) == {"python_loop", "duckdb_group_by"} and all(s > 0 for s in speed.values())
    assert f"{speed['python_loop']:.2f} s" in machine.line(speed, speed)

    machine.record([(10, "ingest", 12, 1.5, 300.4), (10, "read_floor:floor", 12, 0.25, None)],
                   {"python_loop": 1.0}, {"python_loop": 2.0}, path=tmp_path / "results.csv")
    rows = [line.split(",")[2:] for line in (tmp_path / "results.csv").read_text().splitlines()]
    assert rows == [["10", "ingest", "12", "1.500", "300"], ["10", "read_floor:floor", "12", "0.250", ""],
                    ["", "machine:python_loop:before", "", "1.000", ""], ["", "machine:python_loop:after", "", "2.000", ""]]
