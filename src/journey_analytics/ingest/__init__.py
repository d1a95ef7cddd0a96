"""Layer 1: read each configured source into `core.events`, safely and incrementally.

Per unit (a file, or a database table/query), batch by batch: read as text → map to the
canonical batch (PII hashed) → validate and classify in SQL → append events, identifiers and
quarantined rows; the manifest row is written in the same transaction, so a unit is loaded whole
or not at all. A file whose (path, content hash) is in the manifest is skipped, so rereading the
same data adds nothing; a changed file is read again and its known rows deduplicate.
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import hashlib
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, Source, memory_bytes
from journey_analytics.sources.mapping import (
    EMAIL_LIKE,
    TIMESTAMP_FORMAT,
    compile_mapping,
    nested_key_hint,
    pii_kind,
    referenced_columns,
    required_columns,
    spec_fingerprint,
)
from journey_analytics.sources.postgres import describe, open_postgres
from journey_analytics.sources.readers import (
    BATCH_ROWS, LINE, UTF16_BOMS, Opened, SourceError, expand, is_gzip, open_file, shown_columns,
)
from journey_analytics.warehouse import memory_cap, transaction

OUTCOMES = ("loaded", "deduplicated")
# DuckDB's memory while ingesting: a batch's work fits easily, and a larger buffer pool only caches
# the growing warehouse, which made peak RSS grow with the input (docs/performance.md).
INGEST_MEMORY = "256MB"
# A file whose rows are too wide for whole batches within INGEST_MEMORY is mapped in slices of this size,
# with more memory: a row takes 15-25 times its size while mapped (one of 20 MB fits in 512MB).
SLICE_BYTES = 16_000_000
WIDE_INGEST_MEMORY = "1GB"
# A file whose last line has no line end and that changed less than this long ago is taken as still being
# written and left for the next run: read now, its cut-off last row would load as it is, and the completed
# row would then be quarantined as a duplicate of it.
WRITING_SECONDS = 300


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    rows_read: int
    rows_loaded: int
    rows_deduplicated: int
    rows_quarantined: int
    skipped: bool = False  # already ingested with the same content
    gone: bool = False  # read by an earlier run, no longer among the files `path` matches (its rows stay)
    note: str = ""  # e.g. extra columns that were ignored
    reasons: tuple[tuple[str, int], ...] = ()  # quarantine reason → rows
    keys_on_no_line: tuple[str, ...] = ()  # JSON lines: keys the spec reads that no line of the file holds


@dataclass(frozen=True)
class Unit:
    """One file, or one table/query of a database source."""

    shown: str
    size_bytes: int | None
    fingerprint: str | None  # content hash known before reading (files); None: always read
    open: Callable[[], Opened]
    writing: str = ""  # why the file looks still being written ("": it does not)
    error: str = ""  # why the file cannot be read at all (its permissions): it fails alone, not its source


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def units(config: Config, source: Source, batch_rows: int = BATCH_ROWS) -> Iterator[Unit]:
    """The units a source names; raises SourceError when a file source matches no file."""
    if source.format == "postgres":
        yield Unit(describe(source), None, None, lambda: open_postgres(source, batch_rows))
        return
    pattern = config.resolve(source.path)
    files = expand(pattern)
    if not files:
        raise SourceError(
            f"source {source.name!r}: no file matches {source.path!r} (relative to {config.base_dir}). "
            + (f"It is a folder: name its files, e.g. `{source.path.rstrip('/')}/*.{source.format}`."
               if pattern.is_dir() else "Fix `path` in the config or add the files.")
        )
    # the folder a glob names (its parts before the first with a wildcard); a path naming a file has none
    folder = Path(*itertools.takewhile(lambda p: not glob.has_magic(p), pattern.parts)) \
        if glob.has_magic(str(pattern)) else None
    within = folder.resolve() if folder else None
    for f in files:
        if not f.exists():
            yield Unit(str(f), None, None, lambda: None, error=(
                f"{f}: is a link to {os.readlink(f)}, which does not exist (a folder or mount that is down?), so it "
                "is not read. Restore what it links to, or remove the link."))
            continue
        real = f.resolve()
        try:
            shown = str(real.relative_to(config.base_dir))
        except ValueError:
            shown = str(f)
        if within and not real.is_relative_to(within):
            # someone who may drop files there could feed the run, and its report, any file the run may read
            yield Unit(shown, None, None, lambda: None, error=(
                f"{f}: is a link to a file outside {folder}, the folder `path` names, so it is not read (a link put "
                "there could feed the run, and its report's examples, any file the run may read). Copy the file "
                "into the folder, or name it in `path`."))
            continue
        try:
            fingerprint, stat = _sha256(f), f.stat()
        except OSError as exc:
            yield Unit(shown, None, None, lambda: None,
                       error=f"{shown}: cannot be read ({exc.strerror}). Check the file's permissions.")
            continue
        yield Unit(shown, stat.st_size, fingerprint,
                   lambda f=f: open_file(f, source.format, batch_rows, referenced_columns(source), source.delimiter),
                   "" if source.format == "parquet" else _still_being_written(f, stat))


def _still_being_written(path: Path, stat: os.stat_result) -> str:
    """Why a text file looks still being written: its last line has no line end and it changed moments ago."""
    age = time.time() - stat.st_mtime
    if stat.st_size == 0 or age >= WRITING_SECONDS or is_gzip(path):
        return ""
    with open(path, "rb") as fh:
        start = fh.read(len(codecs.BOM_UTF8) + 1)
        if start == codecs.BOM_UTF8 or start[:2] in UTF16_BOMS:  # only a BOM, or UTF-16: reading says what is wrong
            return ""
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) in (b"\n", b"\r"):
            return ""
    return (f"its last line has no line end and it changed {max(age, 0):.0f} s ago, as a file still being written "
            "does: left for the next run (write files under another name and rename them when complete)")


def _check_columns(unit: Unit, source: Source, opened: Opened) -> str:
    """Fail on a missing required column; return a note naming extra columns that are ignored and
    optional columns of the spec that the file lacks (read as empty)."""
    if opened.columns is None or not opened.columns:
        return ""
    read = {c.lower() for c in referenced_columns(source)}
    lowered = [c.lower() for c in opened.columns]
    if twins := [c for c in opened.columns if c.lower() in read and lowered.count(c.lower()) > 1]:
        raise SourceError(f"{unit.shown}: columns {shown_columns(twins)} differ only in case, and column names are "
                          "matched ignoring case (as SQL does), so one would be read for the other. Rename one.")
    by_key = {c.strip().lower(): c for c in opened.columns}

    def in_case(names: list[str]) -> str:
        """The file's own spelling of columns that differ from the spec only in case or in blanks around them (quoted,
        to show the blanks): their names must match."""
        spelt = [f"{c} is {json.dumps(f) if f != f.strip() else f}" for c in names if (f := by_key.get(c.lower()))]
        return f" (in the file: {', '.join(spelt)}; write the name as the file does)" if spelt else ""

    required = required_columns(source)
    missing = [c for c in required if c not in opened.columns]
    if missing:
        headless = " Does the file lack its header row?" if len(missing) == len(required) else ""
        one = opened.columns[0] if source.format == "csv" and len(opened.columns) == 1 else ""
        if other := next((d for d in ";\t|," if d in one), None):
            headless = (f" The header reads as one column holding {other!r}: if that separates the values, set "
                        f"`delimiter: {json.dumps(other)}` in the source's spec.")
        raise SourceError(
            f"{unit.shown}: required column(s) {', '.join(missing)} not found{in_case(missing)} "
            f"(found: {shown_columns(opened.columns)}).{headless} Fix the source's `columns`/`identifiers` in the "
            "config, or the data."
        )
    referenced = referenced_columns(source)
    extra = [c for c in opened.columns if c not in referenced]
    absent = [c for c in referenced if c not in opened.columns]
    notes = ([f"ignored column(s) not in the spec: {shown_columns(extra)}"] if extra else []) + (
        [f"column(s) of the spec not in the file, read as empty: {', '.join(absent)}{in_case(absent)}"]
        if absent else [])
    return "; ".join(notes)


def read_before(con: duckdb.DuckDBPyConnection, source: Source, unit: Unit) -> bool:
    """Whether the manifest holds this file with this content (a run skips it)."""
    return bool(unit.fingerprint) and bool(sqlfiles.query(
        con, "ingest/read_before", source=source.name, path=unit.shown, content_sha256=unit.fingerprint).fetchall())


def same_bytes_as(con: duckdb.DuckDBPyConnection, config: Config, source: Source, unit: Unit) -> str:
    """The path of another file of `source` read before, under the current spec, with rows and the same content as
    `unit` (a copy: a run skips it, as reading it would only count its rows, and quarantine its bad rows, a second
    time), or ""."""
    if not unit.fingerprint:
        return ""
    found = sqlfiles.query(con, "ingest/same_bytes_as", source=source.name, path=unit.shown,
                           content_sha256=unit.fingerprint, spec_sha256=spec_fingerprint(source, config)).fetchall()
    return found[0][0] if found else ""


def copy_note(copied: str) -> str:
    return f"the same bytes as {copied}, read before: skipped (read, its rows would only count a second time)"


def read_under_earlier_spec(con: duckdb.DuckDBPyConnection, config: Config, source: Source, unit: Unit) -> str:
    """A note while the manifest holds a version of this file read under another spec of the source
    (until `journey sources reset`), else "": its rows keep the mapping of then, and when the file is
    read again because it changed, those mapped differently now are quarantined as duplicate_event_id."""
    earlier = sqlfiles.query(con, "ingest/read_under_earlier_spec", source=source.name, path=unit.shown,
                             spec_sha256=spec_fingerprint(source, config)).fetchall()[0][0]
    if not earlier:
        return ""
    return (f"read before under an earlier spec of source {source.name!r}, so its rows keep that mapping "
            f"(`journey sources reset {source.name}` has the next run read the source's files again)")


class _TooWide(Exception):
    """A batch's rows are too wide to map within INGEST_MEMORY: the file is read again in smaller slices."""

    def __init__(self, bytes_per_row: float, first_line: int) -> None:
        super().__init__(bytes_per_row, first_line)
        self.bytes_per_row, self.first_line = bytes_per_row, first_line


def _has_legacy_ids(con: duckdb.DuckDBPyConnection, source: Source) -> bool:
    """Whether `source`, which has no event_id column, holds ids an earlier version generated from the time's
    text ('h…', sql/ingest/classified.sql), which rows read now must also be matched against."""
    if source.columns.event_id is not None:
        return False
    return sqlfiles.query(con, "ingest/legacy_ids", source=source.name).fetchall()[0][0]


def grew_from(source: Source, path: Path, versions: list[tuple[str, int | None]]) -> bool:
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


def _changed_note(con: duckdb.DuckDBPyConnection, source: Source, unit: Unit, path: Path, rows_read: int,
                  loaded: int) -> str:
    """For file `path` read again because it changed: that rows taken out of it stay loaded, and (without an
    event_id column, whose generated id hashes the row) that a row edited in place loads as another event,
    unless the file only grew (an appended log); else "". Loading never deletes: `journey sources reset`
    reloads a source as its files are now. A database source is read whole every run: none."""
    if source.format == "postgres":
        return ""
    before = sqlfiles.query(con, "ingest/last_read", source=source.name, path=unit.shown).fetchall()
    if not before:
        return ""
    read, sha, size = before[0]
    notes = []
    if rows_read < read:
        notes.append(f"it has {rows_read:,} rows, {read:,} when read before: rows taken out of a file stay loaded")
    if loaded and source.columns.event_id is None and not grew_from(source, path, [(sha, size)]):
        notes.append(f"changed since read before: its {loaded:,} new row(s) are new events, as the source has no "
                     "event_id column (a row edited in place is one, and its earlier version stays loaded)")
    if notes:
        notes.append(f"`journey sources reset {source.name}` reloads the source as its files are now")
    return "; ".join(notes)


def first_bad_row(con: duckdb.DuckDBPyConnection, run_id: str, source: str, path: str) -> str:
    """'line 4: wrong_type (amount is not a valid integer)' for the first row of file `path` that run `run_id`
    quarantined, '' when none (its bad rows were all quarantined before)."""
    found = sqlfiles.query(con, "queries/first_bad_row", run_id=run_id, source=source, path=path).fetchall()
    if not found:
        return ""
    line, reason, detail = found[0]
    return f"line {line}: {reason}" + (f" ({detail})" if detail else "")


def ingest_unit(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, unit: Unit, *, run_id: str, now: datetime,
    slice_rows: int | None = None, count_keys: bool = False,
) -> FileResult:
    """Ingest one unit of `source`; returns its counts (rows_read = loaded + deduplicated + quarantined).
    `slice_rows` maps each batch in slices of that many rows (for rows too wide for whole batches); `count_keys`
    finds the JSON keys the spec reads that no line holds (`keys_on_no_line`, for `sources check`: ≈ 0.07 s per
    key and 1M lines)."""
    if unit.error:
        raise SourceError(unit.error)
    stale = read_under_earlier_spec(con, config, source, unit)
    if read_before(con, source, unit):
        return FileResult(source.name, unit.shown, 0, 0, 0, 0, skipped=True, note=stale)
    if copied := same_bytes_as(con, config, source, unit):
        return FileResult(source.name, unit.shown, 0, 0, 0, 0, skipped=True, note=copy_note(copied))
    if unit.writing:  # not in the manifest, so the next run reads it
        return FileResult(source.name, unit.shown, 0, 0, 0, 0, note=unit.writing)

    params = dict(
        source=source.name, source_kind=source.kind, source_priority=config.source_priority(source),
        run_id=run_id, now=now, path=unit.shown, timezone=source.timezone, timestamp_format=TIMESTAMP_FORMAT,
        has_event_id=source.columns.event_id is not None, legacy_ids=_has_legacy_ids(con, source),
        email_like=EMAIL_LIKE,
        occurred_at_pii=pii_kind(source, config, source.columns.occurred_at), on_bad_row=source.on_bad_row,
    )
    opened = unit.open()
    note = "; ".join(filter(None, (stale, _check_columns(unit, source, opened))))
    mapping = compile_mapping(source, config, opened.columns, count_keys)
    counts: Counter[str] = Counter()
    keys_seen: Counter[str] = Counter()  # JSON lines: lines holding each key `columns` names
    other_case: Counter[str] = Counter()  # JSON lines: lines writing a personal key only in another case
    spelled: dict[str, set[str]] = {}  # ... and how they write it
    digest = hashlib.sha256()
    sqlfiles.run_script(con, "ingest/file_rejects")
    with transaction(con):
        for frame in (part for batch in opened.batches for part in batch.iter_slices(slice_rows or BATCH_ROWS)):
            if unit.fingerprint is None:
                digest.update(frame.hash_rows().to_arrow().buffers()[1])
            con.register("raw", frame.to_arrow())
            try:
                if mapping.presence:
                    seen, other, spellings = con.execute(mapping.presence, mapping.bind(mapping.presence)).fetchall()[0]
                    keys_seen.update(dict(zip(mapping.role_keys + mapping.other_keys, seen)))
                    other_case.update(dict(zip(mapping.cased_keys, other)))
                    for key, spelling in zip(mapping.cased_keys, spellings):
                        spelled.setdefault(key, set()).update(spelling or ())
                con.execute(f"create or replace temp table batch as {mapping.batch}", mapping.bind(mapping.batch))
                sqlfiles.build(con, "ingest/classified", temp=True, **params)
                con.execute(f"create or replace temp table rejected as {mapping.records}",
                            mapping.bind(mapping.records))
                con.unregister("raw")
                if line := con.execute("select min(line) from classified where outcome = 'timestamp_without_zone'"
                                       ).fetchall()[0][0]:
                    raise SourceError(
                        f"{unit.shown}: timestamps carry no UTC offset (first at line {line}) and source "
                        f"{source.name!r} declares no timezone. Add `timezone: <IANA zone>` to the source in the "
                        "config."
                    )
                sqlfiles.run_script(con, "ingest/known_rejects", **params)
                batch_counts = dict(con.execute("select outcome, count(*) from classified group by all").fetchall())
                sqlfiles.run_script(con, "ingest/append", **params)
            except duckdb.OutOfMemoryException as exc:  # any of the batch's work, appending included
                raise _TooWide(frame.estimated_size() / max(frame.height, 1), frame[LINE][0]) from exc
            counts.update(batch_counts)
        absent = [k for k in mapping.role_keys if not keys_seen[k]]
        if absent and sum(counts.values()) > counts["malformed_record"]:
            raise SourceError(
                f"{unit.shown}: no line has the key(s) {', '.join(absent)} that the source's `columns` names. "
                "Fix `columns` in the config (keys are case-sensitive), or the data."
                + (f" {hint[0].upper()}{hint[1:]}." if (hint := nested_key_hint(absent)) else "")
            )
        if cased := [f"{k} as {', '.join(sorted(spelled[k]))} on {n:,} line(s)" for k, n in other_case.items() if n]:
            note = "; ".join(filter(None, (note, "key(s) of the spec written only in another case, so read as empty "
                                                 f"there (JSON keys are case-sensitive): {', '.join(cased)}")))
        reasons = tuple(sorted((k, n) for k, n in counts.items() if k not in OUTCOMES))
        if reasons and source.on_bad_row == "fail":
            first_bad = first_bad_row(con, run_id, source.name, unit.shown)
            raise SourceError(
                f"{unit.shown}: {sum(n for _, n in reasons)} bad row(s) ({', '.join(f'{k} {n}' for k, n in reasons)})"
                f"{f', the first at {first_bad}' if first_bad else ''}, and source {source.name!r} has on_bad_row: "
                "fail, so nothing was loaded. `journey sources check` counts them by reason; fix the data or set "
                "on_bad_row: quarantine."
            )
        rows_read = sum(counts.values())
        note = "; ".join(filter(None, (note, _changed_note(con, source, unit, config.resolve(unit.shown), rows_read,
                                                              counts["loaded"]))))
        result = FileResult(
            source.name, unit.shown, rows_read=rows_read, rows_loaded=counts["loaded"],
            rows_deduplicated=counts["deduplicated"], rows_quarantined=sum(n for _, n in reasons),
            note=note, reasons=reasons, keys_on_no_line=tuple(k for k in mapping.other_keys if not keys_seen[k]),
        )
        sqlfiles.query(con, "ingest/record_file", run_id=run_id, source=source.name, path=unit.shown,
                       size_bytes=unit.size_bytes, content_sha256=unit.fingerprint or digest.hexdigest(),
                       rows_read=result.rows_read, rows_loaded=result.rows_loaded,
                       rows_deduplicated=result.rows_deduplicated, rows_quarantined=result.rows_quarantined,
                       loaded_at=now, note=note, spec_sha256=spec_fingerprint(source, config))
        for table in ("batch", "classified", "rejected", "rejects", "known_rejects", "file_rejects"):
            con.execute(f"drop table if exists {table}")
    return result


def ingest_fitting(con: duckdb.DuckDBPyConnection, config: Config, source: Source, unit: Unit, *, run_id: str,
                   now: datetime, count_keys: bool = False) -> FileResult:
    """`ingest_unit`; when its rows are too wide for whole batches (a 100 KB text value per row), read again in
    slices of about SLICE_BYTES with up to WIDE_INGEST_MEMORY (never above journey.yaml's `memory_limit`).
    A row too wide even then is a SourceError naming its line."""
    try:
        return ingest_unit(con, config, source, unit, run_id=run_id, now=now, count_keys=count_keys)
    except _TooWide as wide:
        rows = max(1, int(SLICE_BYTES // wide.bytes_per_row))
    current = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    allowed = min(filter(None, (WIDE_INGEST_MEMORY, config.memory_limit)), key=memory_bytes)
    wider = max(current, allowed, key=memory_bytes)
    con.execute("set memory_limit = ?", [wider])
    try:
        return ingest_unit(con, config, source, unit, run_id=run_id, now=now, slice_rows=rows, count_keys=count_keys)
    except _TooWide as wide:
        raise SourceError(
            f"{unit.shown}: the rows from line {wide.first_line} (about {wide.bytes_per_row / 1e6:.1f} MB each) are too "
            f"wide to load within {wider} of memory, even {rows} at a time. Split the "
            "long values out of the file, read fewer columns, or raise `memory_limit` in journey.yaml."
        ) from None
    finally:
        con.execute("set memory_limit = ?", [current])


def ingest_source(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, *, run_id: str, now: datetime,
    batch_rows: int = BATCH_ROWS, on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Ingest every new or changed unit of a source; `on_file` hears about each one as it is done.

    A file that cannot be read (SourceError) does not stop the others: each is loaded or not on its own, and
    then one SourceError names every file that failed. DuckDB's memory is capped at `INGEST_MEMORY`
    meanwhile, so peak memory does not grow with the input.
    """
    results = []

    def done(result: FileResult) -> None:
        results.append(result)
        if on_file:
            on_file(result)

    # files read before the manifest kept spec fingerprints: taken as read under the spec of this run
    sqlfiles.query(con, "ingest/adopt_spec", source=source.name, spec_sha256=spec_fingerprint(source, config))
    failed, current = [], {}
    with memory_cap(con, INGEST_MEMORY, config.memory_limit), _told(failed):
        for unit in units(config, source, batch_rows):
            current[unit.shown] = unit.fingerprint
            try:
                done(ingest_fitting(con, config, source, unit, run_id=run_id, now=now))
            except SourceError as exc:
                failed.append(exc)
    for gone in files_gone(con, source, current):
        done(gone)
    if failed:
        raise files_failed(failed) from None  # a cause could show a value the message leaves out
    return results


@contextlib.contextmanager
def _told(failed: list[SourceError]) -> Iterator[None]:
    """An error that stops the source's files (a full disk, an interrupt) carries the file errors before it."""
    try:
        yield
    except BaseException as exc:
        if failed:
            exc.add_note(f"before it: {files_failed(failed)}")
        raise


def files_failed(failed: list[SourceError], shown: int = 5) -> SourceError:
    """One error for the files of a source that could not be read (each error names its file), the others having
    been read: the error itself for one file, else the first `shown` errors, then how many more."""
    if len(failed) == 1:
        return failed[0]
    more = f" And {len(failed) - shown} more file(s)." if len(failed) > shown else ""
    return SourceError(f"{len(failed)} files failed (the source's other files were read). "
                       + " ".join(map(str, failed[:shown])) + more)


def files_gone(con: duckdb.DuckDBPyConnection, source: Source, current: dict[str, str | None]) -> list[FileResult]:
    """The files an earlier run read that are not among the `current` ones ({path: content hash}: deleted, moved,
    no longer matched), each with a note: their rows stay loaded, which a reader of the numbers would otherwise
    not know; one whose bytes a current file holds was renamed (or copied) there. A database source has no
    files: none."""
    if source.format == "postgres":
        return []
    by_content = {sha: path for path, sha in current.items() if sha}
    return [
        FileResult(source.name, r["path"], 0, 0, 0, 0, skipped=True, gone=True, note=(
            f"renamed or copied to {by_content[r['content_sha256']]} (the same bytes) since run {r['last_run_id']} "
            f"read it: its {r['rows_loaded']:,} loaded row(s) stay in the warehouse"
            if r["content_sha256"] in by_content else
            f"gone since run {r['last_run_id']} read it: its {r['rows_loaded']:,} loaded row(s) stay in the "
            f"warehouse; restore the file, or `journey sources reset {source.name} --force` removes them (and "
            "reads the source's files again)"))
        for r in sqlfiles.records(con, "queries/files_gone", source=source.name, paths=list(current))
    ]
