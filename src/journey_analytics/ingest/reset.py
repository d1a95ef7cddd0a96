"""`journey sources reset NAME`: forget what a source loaded, so the next run reads it again.

A spec change does not re-read files already in the manifest (their rows keep the mapping of then,
and a run says so); after resetting, the next run reads every file of the source under the current
spec. When reading again might not bring back every row as it was loaded, the reset refuses unless
forced (`rows_at_risk` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.ingest import grew_from, units
from journey_analytics.sources.readers import SourceError, expand
from journey_analytics.warehouse import transaction


@dataclass(frozen=True)
class ResetResult:
    events: int  # rows removed from core.events
    quarantined: int  # rows removed from ingest.quarantine
    files: int  # files (or database units) the manifest listed
    at_risk: tuple[str, ...]  # why some removed rows may not come back (reset forced anyway)


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def rows_at_risk(con: duckdb.DuckDBPyConnection, config: Config, source: Source) -> tuple[str, ...]:
    """Why reading the source again might not bring back every row as it was loaded (empty: it would).

    Hashes every file the source's `path` matches now, as a run does.
    """
    versions = sqlfiles.query(con, "ingest/file_versions", source=source.name).fetchall()
    if not versions:
        return ()
    if source.format == "postgres":
        return ("it is a database source: rows deleted from its table or query since they were read would not "
                "come back",)
    # no file matching `path` leaves nothing current
    found = list(units(config, source)) if expand(config.resolve(source.path)) else []
    if unreadable := [unit.error for unit in found if unit.error]:
        raise SourceError(unreadable[0])
    current = {unit.shown: unit.fingerprint for unit in found}
    # a file renamed (or copied) holds every version of one that is gone: its rows come back from the new name
    gone = [path for path, read in versions
            if path not in current and not {sha for sha, _ in read} <= set(current.values())]
    changed = [path for path, read in versions if path in current and [sha for sha, _ in read] != [current[path]]
               and not grew_from(source, config.resolve(path),
                                 [(sha, size) for sha, size in read if sha != current[path]])]
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
        fix = ("If its table still holds every row it had, pass --force" if source.format == "postgres" else
               "Restore the files or fix `path` first, or pass --force to reset anyway")
        raise SourceError(f"source {source.name!r}: resetting could lose or change rows for good: "
                          f"{'; '.join(at_risk)}. {fix}.")
    return _forget(con, source.name, at_risk, _totals(con, source.name))


def reset_undeclared(con: duckdb.DuckDBPyConnection, name: str, *, force: bool = False) -> ResetResult | None:
    """Delete what a source journey.yaml no longer declares (removed, or renamed) loaded: its events stay stored,
    left out of the journeys, until this. None when the warehouse holds nothing of `name`. Raises SourceError,
    deleting nothing, unless `force`: no run brings those rows back."""
    events, _, files = totals = _totals(con, name)
    if not events and not files:
        return None
    why = "journey.yaml no longer declares it, so no run reads its data again"
    if not force:
        raise SourceError(f"source {name!r}: the warehouse holds {events:,} events of it from {files:,} file(s), left "
                          f"out of the journeys since {why}. Deleting them cannot be undone: pass --force to "
                          "delete them, or declare the source again to count them.")
    return _forget(con, name, (why,), totals)


def _totals(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int, int]:
    """(events, quarantined rows, files) the warehouse holds of source `name`."""
    ((events, quarantined, files),) = sqlfiles.query(con, "ingest/source_totals", source=name).fetchall()
    return events, quarantined, files


def _forget(con: duckdb.DuckDBPyConnection, name: str, at_risk: tuple[str, ...],
            totals: tuple[int, int, int]) -> ResetResult:
    """Delete what source `name` loaded, in one transaction; `totals` are its (events, quarantined, files) before."""
    with transaction(con):
        sqlfiles.run_script(con, "ingest/reset_source", source=name)
    return ResetResult(*totals, at_risk)
