"""`journey sources reset NAME`: forget what a source loaded, so the next run reads it again.

A spec change does not re-read files already in the manifest (their rows keep the mapping of then,
and a run says so); after resetting, the next run reads every file of the source under the current
spec. Rows that reading again would not bring back (a file gone, no longer matched by `path`, or
changed since it was read other than by growing; a database's rows deleted since) make the reset
refuse unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.ingest import sha256_of, units
from journey_analytics.sources.readers import SourceError


@dataclass(frozen=True)
class ResetResult:
    events: int  # rows removed from core.events
    files: int  # files (or database units) the manifest listed
    at_risk: tuple[str, ...]  # why some removed rows may not come back (reset forced anyway)


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _starts_with(path: Path, sha256: str, size: int | None) -> bool:
    """Whether the file's first `size` bytes are the version read before (a file that only grew)."""
    return size is not None and path.stat().st_size >= size and sha256_of(path, first=size) == sha256


def rows_at_risk(con: duckdb.DuckDBPyConnection, config: Config, source: Source) -> tuple[str, ...]:
    """Why reading the source again might not bring back every row it loaded (empty: it would).

    Hashes every file the source's `path` matches now, as a run does.
    """
    if source.format == "postgres":
        return ("it is a database source: rows deleted from its table or query since they were read would not "
                "come back",)
    try:
        current = {unit.shown: unit.fingerprint for unit in units(config, source)}
    except SourceError:  # no file matches `path` any more
        current = {}
    versions = con.execute("select path, list(distinct (content_sha256, size_bytes)) from ingest.manifest "
                           "where source = ? group by path order by path", [source.name]).fetchall()
    gone = [path for path, _ in versions if path not in current]
    changed = [path for path, read in versions if path in current and not all(
        sha == current[path] or _starts_with(config.resolve(path), sha, size) for sha, size in read)]
    reasons = []
    if gone:
        reasons.append(f"{len(gone)} file(s) it loaded are gone or no longer match `path` ({_listed(gone)})")
    if changed:
        reasons.append(f"{len(changed)} file(s) changed since a version of them was read, other than by growing "
                       f"({_listed(changed)}): rows only in an earlier version would not come back")
    return tuple(reasons)


def reset_source(con: duckdb.DuckDBPyConnection, config: Config, source: Source, *, force: bool = False) -> ResetResult:
    """Delete the source's events, identifiers, quarantined rows and manifest rows in one transaction.

    Raises SourceError, deleting nothing, when `rows_at_risk` finds a reason and `force` is False.
    """
    at_risk = rows_at_risk(con, config, source)
    if at_risk and not force:
        raise SourceError(
            f"source {source.name!r}: resetting could lose rows for good: {'; '.join(at_risk)}. Restore the files "
            "or fix `path` first, or pass --force to reset anyway."
        )
    events = con.execute("select count(*) from core.events where source = ?", [source.name]).fetchall()[0][0]
    files = con.execute("select count(distinct path) from ingest.manifest where source = ?", [source.name]
                        ).fetchall()[0][0]
    con.execute("begin transaction")
    try:
        sqlfiles.run_script(con, "ingest/reset_source", source=source.name)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return ResetResult(events, files, at_risk)
