"""`journey sources reset NAME`: forget what a source loaded, so the next run reads it again.

A spec change does not re-read files already in the manifest (their rows keep the mapping of then,
and a run says so); after resetting, the next run reads every file of the source under the current
spec. When reading again might not bring back every row as it was loaded, the reset refuses unless
forced (`rows_at_risk` says why).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.ingest import units
from journey_analytics.sources.readers import SourceError, expand, is_gzip
from journey_analytics.warehouse import transaction


@dataclass(frozen=True)
class ResetResult:
    events: int  # rows removed from core.events
    files: int  # files (or database units) the manifest listed
    at_risk: tuple[str, ...]  # why some removed rows may not come back (reset forced anyway)


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _grew_from(source: Source, path: Path, versions: list[tuple[str, int | None]]) -> bool:
    """Whether every earlier version (sha256, size) read of this plain-text file is its first bytes and
    ended with a line break, so its rows come back as they were. One pass; a digest snapshot per size."""
    if source.format == "parquet" or is_gzip(path) or any(size is None for _, size in versions):
        return False  # columnar or compressed: growing rewrites earlier bytes
    sizes = sorted({size for _, size in versions})
    if sizes[-1] > path.stat().st_size:
        return False
    found, digest, done = {}, hashlib.sha256(), 0
    with path.open("rb") as fh:
        for size in sizes:
            while done < size:
                block = fh.read(min(size - done, 1 << 20))
                if not block:
                    return False  # shrank while read
                digest.update(block)
                done += len(block)
            found[size] = digest.hexdigest()
            if size and not block.endswith(b"\n"):
                return False  # its last line could have been extended
    return all(found[size] == sha for sha, size in versions)


def rows_at_risk(con: duckdb.DuckDBPyConnection, config: Config, source: Source) -> tuple[str, ...]:
    """Why reading the source again might not bring back every row as it was loaded (empty: it would).

    Hashes every file the source's `path` matches now, as a run does.
    """
    versions = con.execute("select path, list(distinct (content_sha256, size_bytes)) from ingest.manifest "
                           "where source = ? group by path order by path", [source.name]).fetchall()
    if not versions:
        return ()
    if source.format == "postgres":
        return ("it is a database source: rows deleted from its table or query since they were read would not "
                "come back",)
    # an unreadable file fails here with its own message; no file matching `path` leaves nothing current
    current = {unit.shown: unit.fingerprint for unit in units(config, source)} if expand(
        config.resolve(source.path)) else {}
    gone = [path for path, _ in versions if path not in current]
    changed = [path for path, read in versions if path in current and [sha for sha, _ in read] != [current[path]]
               and not _grew_from(source, config.resolve(path), [(sha, size) for sha, size in read if sha != current[path]])]
    reasons = []
    if gone:
        reasons.append(f"{len(gone)} file(s) it loaded are gone or no longer match `path` ({_listed(gone)})")
    if changed:
        reasons.append(f"{len(changed)} file(s) changed since a version of them was read, other than by lines "
                       f"added at the end ({_listed(changed)}): rows only in an earlier version would not come back")
    return tuple(reasons)


def reset_source(con: duckdb.DuckDBPyConnection, config: Config, source: Source, *, force: bool = False) -> ResetResult:
    """Delete the source's events, identifiers, quarantined rows and manifest rows in one transaction.

    Raises SourceError, deleting nothing, when `rows_at_risk` finds a reason and `force` is False.
    """
    at_risk = rows_at_risk(con, config, source)
    if at_risk and not force:
        raise SourceError(
            f"source {source.name!r}: resetting could lose or change rows for good: {'; '.join(at_risk)}. Restore "
            "the files or fix `path` first, or pass --force to reset anyway."
        )
    events = con.execute("select count(*) from core.events where source = ?", [source.name]).fetchall()[0][0]
    files = con.execute("select count(distinct path) from ingest.manifest where source = ?", [source.name]
                        ).fetchall()[0][0]
    with transaction(con):
        sqlfiles.run_script(con, "ingest/reset_source", source=source.name)
    return ResetResult(events, files, at_risk)
