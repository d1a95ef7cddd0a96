"""Open the DuckDB warehouse: one file, one writer at a time, always in UTC."""

from __future__ import annotations

from pathlib import Path

import duckdb

from journey_analytics import sqlfiles


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse's write lock."""


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and make sure its tables exist.

    The session time zone is pinned to UTC so no result depends on the machine's TZ.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"{path} is in use by another process (another `journey run`, or a notebook holding it "
                "open). Wait for it to finish or close it, then run again."
            ) from exc
        raise
    con.execute("set TimeZone = 'UTC'")
    if not read_only:
        con.execute(sqlfiles.load("warehouse/schema"))
    return con
