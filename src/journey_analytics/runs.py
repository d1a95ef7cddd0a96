"""What identifies one run, and the run history it leaves behind."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from journey_analytics import sqlfiles


# The id `Run.start` gives a run (its start in UTC, then 4 hex digits), and so the name of its report folder
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{4}")


@dataclass(frozen=True)
class Run:
    run_id: str
    run_at: datetime  # wall-clock start, UTC
    as_of: datetime  # events after this instant are not part of the run

    @classmethod
    def start(cls, as_of: datetime | None = None) -> Run:
        run_at = datetime.now(timezone.utc).replace(microsecond=0)
        as_of = check_as_of(as_of or run_at, datetime.now(timezone.utc))
        return cls(f"{run_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}", run_at, as_of)


def check_as_of(as_of: datetime, now: datetime) -> datetime:
    """`as_of` in UTC, or ValueError when it is later than `now`: a run as of the future would count every
    open funnel window as closed (customers still in progress as dropped, as exits) and date the trends
    ahead of their data."""
    as_of = as_of.astimezone(timezone.utc)
    if as_of > now:
        raise ValueError(f"as-of {as_of:%Y-%m-%d %H:%M:%S} UTC is in the future (now is {now:%Y-%m-%d %H:%M:%S} "
                         "UTC): a run is as of now (leave --as-of out) or of a past time")
    return as_of


def parse_time(text: str) -> datetime:
    """ISO-8601 date or time; without an offset it is taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def unfinished_runs(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, int, int]]:
    """(run id, files, rows loaded) of the runs just before `run_id` that ended without publishing marts, in
    the order they started: no run counted their files, so run `run_id` counts them as its own
    (sql/queries/unfinished_runs.sql)."""
    return sqlfiles.query(con, "queries/unfinished_runs", run_id=run_id).fetchall()


def counted_run_ids(run_id: str, unfinished: list[tuple[str, int, int]]) -> list[str]:
    """The runs whose files run `run_id` counts as its own: itself and `unfinished` (`unfinished_runs`)."""
    return [run_id] + [earlier for earlier, _files, _loaded in unfinished]


def record_history(con: duckdb.DuckDBPyConnection, run: Run, funnel_definition: int) -> int:
    """Append this run's headline numbers to marts.run_history (replacing a rerun of the same run_id), with
    the fingerprint of its funnel's definition (`Config.funnel_definition`)."""
    run_ids = counted_run_ids(run.run_id, unfinished_runs(con, run.run_id))
    sqlfiles.run_script(con, "marts/run_history", run_id=run.run_id, run_ids=run_ids, run_at=run.run_at,
                        as_of=run.as_of, funnel_definition=funnel_definition)
    return con.execute("select count(*) from marts.run_history where run_id = ?", [run.run_id]).fetchall()[0][0]


def run_metric(con: duckdb.DuckDBPyConnection, run_id: str, metric: str) -> float | None:
    """A metric run `run_id` recorded in `marts.run_history` (None when it recorded none)."""
    found = sqlfiles.query(con, "queries/run_metric", run_id=run_id, metric=metric).fetchall()
    return found[0][0] if found else None


def last_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, datetime | None]:
    """(run_id, as_of) of the run whose identities, journeys and marts the warehouse holds; (None, None) when
    no run is recorded."""
    try:
        found = sqlfiles.query(con, "queries/last_run").fetchall()
    except duckdb.CatalogException:  # journeys built without a recorded run (no marts yet)
        return None, None
    return found[0] if found else (None, None)
