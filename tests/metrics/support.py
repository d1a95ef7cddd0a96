"""Helpers for the metric mart tests: write `core.touchpoints`, build, read tables back."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import duckdb

from journey_analytics.metrics import MetricSettings, build_marts
from tests.reference_metrics import Touchpoint

TOUCHPOINTS_DDL = """
create or replace table core.touchpoints (
    customer_id varchar, event_seq bigint, source varchar, source_kind varchar, event_id varchar,
    event_name varchar, occurred_at timestamptz, channel varchar, properties json, stage varchar,
    stage_index integer, stage_source varchar
)
"""


def write_touchpoints(con: duckdb.DuckDBPyConnection, touchpoints: list[Touchpoint]) -> None:
    """Create `core.touchpoints` (the layer-3 contract) holding exactly these rows."""
    con.execute("create schema if not exists core")
    con.execute(TOUCHPOINTS_DDL)
    rows = [
        (t.customer_id, t.event_seq, t.source, t.source_kind, f"{t.customer_id}-{t.event_seq}", t.event_name,
         t.occurred_at, t.channel, "{}", t.stage, t.stage_index, "unmapped" if t.stage_index is None else "rule")
        for t in touchpoints
    ]
    if rows:
        con.executemany("insert into core.touchpoints values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def write_properties(con: duckdb.DuckDBPyConnection, properties: dict[tuple[str, int], Any]) -> None:
    """Give touchpoints their properties: {(customer_id, event_seq): dict, or JSON text as written}."""
    if properties:
        con.executemany("update core.touchpoints set properties = ? where customer_id = ? and event_seq = ?",
                        [(p if isinstance(p, str) else json.dumps(p), c, q) for (c, q), p in properties.items()])


def build(con: duckdb.DuckDBPyConnection, touchpoints: list[Touchpoint], settings: MetricSettings,
          as_of: dt.datetime) -> dict[str, int]:
    write_touchpoints(con, touchpoints)
    return build_marts(con, settings, as_of)


def fetch(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"select * from {table}")  # table names come from the tests, never from data
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _sort_key(row: dict[str, Any], keys: list[str]) -> tuple:
    return tuple((row[k] is None, row[k] if row[k] is not None else 0) for k in keys)


def _same(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=0, abs_tol=tol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, tol) for x, y in zip(a, b))
    return a == b


def assert_rows_equal(table: str, actual: list[dict], expected: list[dict], keys: list[str],
                      tol: float = 1e-6) -> None:
    """Same rows (compared on the expected rows' columns), in any order; floats within `tol`."""
    columns = list(expected[0]) if expected else []
    got = sorted(({c: r[c] for c in columns} for r in actual), key=lambda r: _sort_key(r, keys))
    want = sorted(expected, key=lambda r: _sort_key(r, keys))
    assert len(got) == len(want), f"{table}: {len(got)} rows, expected {len(want)}\n got={got}\nwant={want}"
    for g, w in zip(got, want):
        bad = [c for c in columns if not _same(g[c], w[c], tol)]
        assert not bad, f"{table}: columns {bad} differ\n got={g}\nwant={w}"
