"""Read a source in batches of text rows, each with its physical line (or row) number.

Everything is read as text: types are decided later, in SQL, so a bad value becomes a
quarantined row with a reason instead of a failed file or a silent NULL. Files are streamed in
batches (Polars' streaming scans; `.gz` is decompressed as it streams), so no file is held whole.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

LINE = "__line"
TEXT = "__text"  # JSON lines: the whole line; fields are extracted in SQL
BATCH_ROWS = 500_000


class SourceError(RuntimeError):
    """A source cannot be read as declared; the message says which file and how to fix it."""


@dataclass(frozen=True)
class Opened:
    """A readable unit of a source: its columns (None when rows may differ, as in JSON lines) and batches."""

    columns: list[str] | None
    batches: Iterator[pl.DataFrame]


def expand(pattern: Path) -> list[Path]:
    """The files a path or glob names, sorted so runs are deterministic."""
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())


def _unreadable(path: Path, fmt: str, exc: Exception) -> SourceError:
    return SourceError(f"{path}: cannot be read as {fmt} ({str(exc).splitlines()[0]}). "
                       "Check the file's format, compression and encoding, or the source's `format`.")


def _checked(batches: Iterator[pl.DataFrame], path: Path, fmt: str) -> Iterator[pl.DataFrame]:
    try:
        for batch in batches:
            yield batch.with_columns(pl.col(LINE).cast(pl.Int64))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, fmt, exc) from exc


def open_csv(path: Path, batch_rows: int = BATCH_ROWS) -> Opened:
    """All columns as strings; empty fields are null; line 1 is the header."""
    if os.access(path, os.R_OK) and path.stat().st_size == 0:
        return Opened([], iter(()))
    try:
        scan = pl.scan_csv(path, infer_schema=False, row_index_name=LINE, row_index_offset=2)
        columns = [c for c in scan.collect_schema().names() if c != LINE]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, "CSV", exc) from exc
    return Opened(columns, _checked(scan.collect_batches(chunk_size=batch_rows), path, "CSV"))


def open_parquet(path: Path, batch_rows: int = BATCH_ROWS) -> Opened:
    try:
        scan = pl.scan_parquet(path, row_index_name=LINE, row_index_offset=1)
        columns = [c for c in scan.collect_schema().names() if c != LINE]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, "Parquet", exc) from exc
    batches = (as_text(b) for b in scan.collect_batches(chunk_size=batch_rows))
    return Opened(columns, _checked(batches, path, "Parquet"))


def open_jsonl(path: Path, batch_rows: int = BATCH_ROWS) -> Opened:
    """One JSON object per line, as text: the mapping SQL extracts the fields and flags malformed lines."""
    scan = (
        pl.scan_lines(path, name=TEXT, row_index_name=LINE, row_index_offset=1)
        .filter(pl.col(TEXT).str.strip_chars() != "")
    )
    return Opened(None, _checked(scan.collect_batches(chunk_size=batch_rows), path, "JSON lines"))


def open_file(path: Path, fmt: str, batch_rows: int = BATCH_ROWS) -> Opened:
    if not os.access(path, os.R_OK):
        raise SourceError(f"{path}: permission denied. Make the file readable by the user running journey.")
    if fmt == "csv":
        return open_csv(path, batch_rows)
    if fmt == "parquet":
        return open_parquet(path, batch_rows)
    return open_jsonl(path, batch_rows)


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; times as ISO-8601 (with the offset when the type carries a zone)."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if name == LINE:
            out.append(col)
        elif isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            out.append(col.dt.to_string(fmt).alias(name))
        else:
            out.append(col.cast(pl.String))
    return frame.select(out)
