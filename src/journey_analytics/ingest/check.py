"""`journey sources check`: what a source would load, without touching the warehouse.

The check runs the real ingest path into a scratch in-memory database seeded with the source's
events already in the warehouse, so its counts (loaded, deduplicated, quarantined by reason) are
exactly what the next run would produce for files it has not read yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from journey_analytics.config import Config, Source
from journey_analytics.ingest import FileResult, Unit, ingest_unit, units
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect


@dataclass
class CheckResult:
    source: Source
    files: list[FileResult] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    error: str | None = None


def _scratch(config: Config, source: Source) -> duckdb.DuckDBPyConnection:
    con = connect(":memory:")
    if config.warehouse_path.exists():
        con.execute("attach ? as warehouse (read_only)", [str(config.warehouse_path)])
        con.execute("insert into core.events select * from warehouse.core.events where source = ?", [source.name])
        con.execute("detach warehouse")
    return con


def check_source(config: Config, source: Source, *, preview_rows: int = 5) -> CheckResult:
    """Validate `source` against its data; never writes to the warehouse."""
    result = CheckResult(source)
    now = datetime.now(timezone.utc)
    try:
        con = _scratch(config, source)
        for unit in units(config, source):
            unseen = Unit(unit.shown, unit.size_bytes, None, unit.open)  # evaluate even files already read
            result.files.append(ingest_unit(con, config, source, unseen, run_id="check", now=now))
        cursor = con.execute(
            "select e.event_id, e.occurred_at, e.event_name, e.channel, "
            "       (select string_agg(id_type || '=' || left(id_value, 12), ' ' order by id_type) "
            "        from core.event_identifiers i where i.source = e.source and i.event_id = e.event_id) as identifiers, "
            "       e.properties::varchar as properties "
            "from core.events e where e.run_id = 'check' order by e.occurred_at, e.event_id limit ?",
            [preview_rows],
        )
        names = [d[0] for d in cursor.description]
        result.preview = [dict(zip(names, row)) for row in cursor.fetchall()]
    except SourceError as exc:
        result.error = str(exc)
    return result
