"""Open the DuckDB warehouse: one file, one writer at a time, always in UTC."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import memory_bytes


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened; the message says why and what to do (the CLI exits 2)."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse's write lock."""


# DuckDB's words for a file whose bytes are not what it wrote (cut short, overwritten): no run can fix that
_DAMAGED = re.compile(r"could not read enough bytes|corrupt database file|checksum", re.IGNORECASE)


def tells_damage(text: str) -> bool:
    """Whether DuckDB's message `text` says the warehouse file is damaged."""
    return bool(_DAMAGED.search(text))


def damaged(path: Path, exc: duckdb.Error) -> str | None:
    """What to say when `exc` shows the warehouse file damaged, else None."""
    if not tells_damage(str(exc)):
        return None
    return (f"{path}: the warehouse file is damaged ({str(exc).splitlines()[0]}). No run can repair it: restore it "
            "from a backup, or rebuild from scratch (move it aside and run again: every source is read anew; "
            "docs/operations.md, Recovery).")


@contextmanager
def opening(path: Path) -> Iterator[None]:
    """Turn DuckDB's and the file system's errors on opening (and first reading) the warehouse file into a
    `WarehouseError`."""
    try:
        yield
    except duckdb.Error as exc:
        if said := damaged(path, exc):
            raise WarehouseError(said) from None
        if not isinstance(exc, duckdb.IOException):
            raise
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"{path} is in use by another process (another `journey run`, or a notebook holding it "
                "open). Wait for it to finish or close it, then run again."
            ) from exc
        reason = str(exc).splitlines()[0].rsplit(": ", 1)[-1]
        raise WarehouseError(f"{path} cannot be opened ({reason}). Check `warehouse` in journey.yaml: it must name "
                             "a DuckDB file that the user running journey may read and write.") from exc
    except OSError as exc:  # its folder cannot be created
        raise WarehouseError(f"{path}: its folder cannot be created ({exc.strerror}). Check `warehouse` in "
                             "journey.yaml.") from exc


def connect(path: str | Path, *, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and make sure its tables exist (read-only: open it as it is).

    The session time zone is pinned to UTC so no result depends on the machine's TZ.
    `memory_limit` (e.g. "6GB", `memory_limit` in journey.yaml) caps DuckDB's memory; beyond it
    DuckDB spills to disk next to the warehouse. None keeps DuckDB's default (80 % of RAM).
    Raises `WarehouseBusy` when another process holds it, `WarehouseError` when it cannot be opened.
    """
    path = Path(path)
    with opening(path):
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
        con.execute("set TimeZone = 'UTC'")
        if memory_limit is not None:
            con.execute("set memory_limit = ?", [memory_limit])
        if not read_only:
            con.execute(sqlfiles.load("warehouse/schema"))
            migrate(con)
    return con


def row_md5_is_text(con: duckdb.DuckDBPyConnection, catalog: str) -> bool:
    """Whether the warehouse attached as `catalog` predates row_md5 as a number (held md5() hex text)."""
    return sqlfiles.query(con, "warehouse/row_md5_is_text", catalog=catalog).fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse written by an earlier version to the current column types."""
    if row_md5_is_text(con, con.execute("select current_database()").fetchall()[0][0]):
        con.execute(sqlfiles.load("warehouse/row_md5_as_number"))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's writes or none. A commit that fails (Ctrl-C during it) leaves no transaction to
    roll back, and a failed checkpoint (a full disk) leaves the database unusable: the rollback's own error
    would hide the one that says what happened."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("rollback")
        raise


@contextmanager
def memory_cap(con: duckdb.DuckDBPyConnection, cap: str, configured: str | None) -> Iterator[None]:
    """Run the block with DuckDB's memory limit lowered to `cap`, then set it back to `configured`
    (the connection's limit from journey.yaml; None = DuckDB's default). Never raises the limit, and
    leaves an in-memory database alone: its tables live inside the limit."""
    on_disk = con.execute("select path from duckdb_databases() where database_name = current_database()"
                          ).fetchall()[0][0]
    if not on_disk or (configured is not None and memory_bytes(configured) <= memory_bytes(cap)):
        yield
        return
    con.execute("set memory_limit = ?", [cap])

    def restore() -> None:
        if configured is None:
            con.execute("reset memory_limit")
        else:
            con.execute("set memory_limit = ?", [configured])
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):  # a database a full disk left unusable: its error says what happened
            restore()
        raise
    restore()
