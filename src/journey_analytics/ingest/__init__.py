"""Layer 1: read each configured source into `core.events`, safely and incrementally.

Per file: read as text → map to the canonical batch (PII hashed) → validate and classify in SQL
→ append events, identifiers, quarantined rows and the manifest row in one transaction.
A file whose (path, content hash) is already in the manifest is skipped, so rereading the same
data adds nothing; a changed file is read again and its known rows deduplicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.sources.mapping import referenced_columns, to_batch
from journey_analytics.sources.readers import READERS, SourceError, expand

OUTCOMES = ("loaded", "deduplicated")


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    rows_read: int
    rows_loaded: int
    rows_deduplicated: int
    rows_quarantined: int
    skipped: bool = False  # already ingested with the same content


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _display(path: Path, config: Config) -> str:
    try:
        return str(path.resolve().relative_to(config.base_dir))
    except ValueError:
        return str(path)


def ingest_file(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, path: Path, *, run_id: str, now: datetime
) -> FileResult:
    """Ingest one file of `source`; returns its counts (rows_read = loaded + deduplicated + quarantined)."""
    shown = _display(path, config)
    content_sha256 = _sha256(path)
    seen = con.execute(
        "select 1 from ingest.manifest where source = ? and path = ? and content_sha256 = ?",
        [source.name, shown, content_sha256],
    ).fetchall()
    if seen:
        return FileResult(source.name, shown, 0, 0, 0, 0, skipped=True)

    frame = READERS[source.format](path, referenced_columns(source))
    batch = to_batch(frame, source, config, shown).to_arrow()
    params = dict(
        source=source.name, source_kind=source.kind, source_priority=config.source_priority(source),
        run_id=run_id, now=now, path=shown, timezone=source.timezone,
        has_event_id=source.columns.event_id is not None,
    )
    con.execute("begin transaction")
    try:
        con.register("batch", batch)
        sqlfiles.build(con, "ingest/classified", temp=True, **params)
        con.unregister("batch")
        counts = dict(con.execute("select outcome, count(*) from classified group by all").fetchall())
        without_zone = counts.get("timestamp_without_zone", 0)
        if without_zone:
            line = con.execute("select min(line) from classified where outcome = 'timestamp_without_zone'").fetchall()[0][0]
            raise SourceError(
                f"{shown}: {without_zone} timestamp(s) carry no UTC offset (first at line {line}) and source "
                f"{source.name!r} declares no timezone. Add `timezone: <IANA zone>` to the source in the config."
            )
        sqlfiles.run_script(con, "ingest/append", **params)
        result = FileResult(
            source.name, shown, rows_read=batch.num_rows, rows_loaded=counts.get("loaded", 0),
            rows_deduplicated=counts.get("deduplicated", 0),
            rows_quarantined=sum(n for k, n in counts.items() if k not in OUTCOMES),
        )
        con.execute(
            "insert into ingest.manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, source.name, shown, path.stat().st_size, content_sha256, result.rows_read,
             result.rows_loaded, result.rows_deduplicated, result.rows_quarantined, now],
        )
        con.execute("drop table classified")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def ingest_source(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, *, run_id: str, now: datetime
) -> list[FileResult]:
    """Ingest every file the source's path names; raises SourceError when none exists."""
    files = expand(config.resolve(source.path))
    if not files:
        raise SourceError(
            f"source {source.name!r}: no file matches {source.path!r} (relative to {config.base_dir}). "
            "Fix `path` in the config or add the files."
        )
    return [ingest_file(con, config, source, f, run_id=run_id, now=now) for f in files]
