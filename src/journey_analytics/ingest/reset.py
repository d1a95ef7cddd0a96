"""`journey sources reset NAME`: forget what a source loaded, so the next run reads it again.

A spec change does not re-read files already in the manifest (their rows keep the mapping of then,
and a run says so); after resetting, the next run reads every file of the source under the current
spec. Files the manifest names that no longer exist could not be read again, so the reset refuses
unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.sources.readers import SourceError


@dataclass(frozen=True)
class ResetResult:
    events: int  # rows removed from core.events
    files: int  # files (or database units) the manifest listed
    missing: tuple[str, ...]  # of those, files no longer on disk: their rows are gone for good


def _missing_files(con: duckdb.DuckDBPyConnection, config: Config, source: Source) -> tuple[str, ...]:
    if source.format == "postgres":
        return ()
    paths = [p for (p,) in con.execute(
        "select distinct path from ingest.manifest where source = ? order by path", [source.name]).fetchall()]
    return tuple(p for p in paths if not config.resolve(p).is_file())


def reset_source(con: duckdb.DuckDBPyConnection, config: Config, source: Source, *, force: bool = False) -> ResetResult:
    """Delete the source's events, identifiers, quarantined rows and manifest rows in one transaction.

    Raises SourceError, deleting nothing, when a file the manifest lists is gone and `force` is False.
    """
    missing = _missing_files(con, config, source)
    if missing and not force:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise SourceError(
            f"source {source.name!r}: {len(missing)} file(s) it loaded no longer exist ({shown}), so their rows "
            "could not be read again. Restore them, or pass --force to reset anyway and lose those rows."
        )
    events = con.execute("select count(*) from core.events where source = ?", [source.name]).fetchall()[0][0]
    files = con.execute("select count(distinct path) from ingest.manifest where source = ?", [source.name]).fetchall()[0][0]
    con.execute("begin transaction")
    try:
        sqlfiles.run_script(con, "ingest/reset_source", source=source.name)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return ResetResult(events, files, missing)
