"""`journey sources check`: what a source would load, without touching the warehouse.

The check runs the real ingest path into a scratch database (a temporary file, removed after) seeded with the source's
events already in the warehouse, so its counts (loaded, deduplicated, quarantined by reason) are
exactly what the next run would produce for files it has not read yet. It runs within the memory a
run's ingest has, so a file too wide for a run fails the check too.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source
from journey_analytics.ingest import (INGEST_MEMORY, FileResult, copy_note, files_failed, files_gone, first_bad_row,
                                      ingest_fitting, read_before, same_bytes_as, units)
from journey_analytics.sources.mapping import spec_fingerprint
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import connect, memory_cap, migrate, opening, row_md5_is_text


@dataclass
class CheckResult:
    source: Source
    files: list[FileResult] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    error: str | None = None
    # the source was read under an earlier spec: counted as a run would read it after `sources reset`
    after_reset: bool = False
    first_bad: dict[str, str] = field(default_factory=dict)  # path → its first bad row, where a run refuses the file

    def keys_on_no_line(self) -> list[str]:
        """JSON lines: the keys the spec reads (identifiers, properties, derive) that no line of any file read holds,
        most likely misspelt (a CSV fails on a missing column; a JSON line may leave out a key it has no value for)."""
        read = [set(f.keys_on_no_line) for f in self.files if f.rows_read]
        return sorted(set.intersection(*read)) if read else []

    def refused(self, f: FileResult) -> bool:
        """Whether a run would load nothing from this file: a bad row and `on_bad_row: fail`."""
        return self.source.on_bad_row == "fail" and bool(f.rows_quarantined) and not f.skipped


def _scratch(config: Config, source: Source, path: Path) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A scratch warehouse at `path` holding the source's events, manifest and quarantine rows, and whether they were
    dropped again because they were read under an earlier spec (so the counts judge the new spec)."""
    # a file, not :memory:, so that its tables are evicted to it (and temp files beside it) as a run's are,
    # not held in RAM or spilled into the working directory, and the run's memory caps apply (_check_files)
    con = connect(path, memory_limit=config.memory_limit)
    if config.warehouse_path.exists():
        with opening(config.warehouse_path):
            con.execute("attach ? as warehouse (read_only)", [str(config.warehouse_path)])
        if row_md5_is_text(con, "warehouse"):  # written by an earlier version: its copy is converted here
            con.execute("alter table core.events alter column row_md5 set data type varchar")
        sqlfiles.run_script(con, "ingest/check_copy_source", source=source.name)
        con.execute("detach warehouse")
        migrate(con)
        if sqlfiles.query(con, "ingest/read_under_earlier_spec", source=source.name, path=None,
                          spec_sha256=spec_fingerprint(source, config)).fetchall()[0][0]:
            sqlfiles.run_script(con, "ingest/reset_source", source=source.name)
            return con, True
    return con, False


def check_source(config: Config, source: Source, *, preview_rows: int = 5) -> CheckResult:
    """Validate `source` against its data; never writes to the warehouse."""
    result = CheckResult(source)
    with tempfile.TemporaryDirectory(prefix="journey-check-") as scratch:
        con, result.after_reset = _scratch(config, source, Path(scratch) / "check.duckdb")
        try:
            _check_files(con, config, source, result, preview_rows)
        finally:
            con.close()
    refused = [f for f in result.files if result.refused(f)]
    if refused:  # beside the files that fail whatever on_bad_row says
        bad = "; ".join(f"{f.path}: {f.rows_quarantined} bad row(s)"
                        + (f", the first at {result.first_bad[f.path]}" if result.first_bad.get(f.path) else "")
                        for f in refused)
        result.error = " ".join(filter(None, (result.error, (
            f"{bad}, and source {source.name!r} has on_bad_row: fail, so a run would load nothing from "
            f"{'these files' if len(refused) > 1 else 'this file'}. Fix the data or set on_bad_row: quarantine."))))
    return result


def _check_files(con: duckdb.DuckDBPyConnection, config: Config, source: Source, result: CheckResult,
                 preview_rows: int) -> None:
    """Ingest every file of `source` into the scratch warehouse `con`, into `result` (an error as its text)."""
    now = datetime.now(timezone.utc)
    try:
        # bad rows are counted by reason even where a run would fail the file on them (on_bad_row: fail), and
        # then, as in such a run, none is known from an earlier read
        counted = source.model_copy(update={"on_bad_row": "quarantine"})
        if source.on_bad_row == "fail":
            sqlfiles.query(con, "ingest/forget_quarantine", source=source.name, path=None)
        failed, current = [], {}
        read_now: dict[str, str] = {}  # content → path of the files a run would read, with rows (copies: skipped)
        with memory_cap(con, INGEST_MEMORY, config.memory_limit):  # as ingest_source reads: wide rows fail alike
            for unit in units(config, source):
                current[unit.shown] = unit.fingerprint
                copied = same_bytes_as(con, config, source, unit) or read_now.get(unit.fingerprint or "", "")
                skipped = read_before(con, source, unit) or bool(copied)  # a run would skip it
                if skipped:  # evaluated whole, as new: its bad rows are counted by reason, not as known
                    sqlfiles.query(con, "ingest/forget_quarantine", source=source.name, path=unit.shown)
                # evaluate even files already read (no content hash: so not skipped here); one a run would leave
                # for later is left here too
                try:  # as a run does, the other files are checked too
                    checked = ingest_fitting(con, config, counted, replace(unit, fingerprint=None), run_id="check",
                                             now=now, count_keys=True)
                except SourceError as exc:
                    failed.append(exc)
                    continue
                checked = replace(checked, skipped=skipped)
                if copied:
                    checked = replace(checked, note="; ".join(filter(None, (copy_note(copied), checked.note))))
                elif not skipped and checked.rows_read and unit.fingerprint:
                    read_now.setdefault(unit.fingerprint, unit.shown)
                if result.refused(checked):
                    result.first_bad[unit.shown] = first_bad_row(con, "check", source.name, unit.shown)
                result.files.append(checked)
            result.files += files_gone(con, source, current)
        result.preview = sqlfiles.records(con, "queries/check_preview", run_id="check", preview_rows=preview_rows)
        if failed:
            raise files_failed(failed) from None
    except SourceError as exc:
        result.error = str(exc)
