"""Read a source in batches of text rows, each with its physical line (or row) number.

Everything is read as text: types are decided later, in SQL, so a bad value becomes a
quarantined row with a reason instead of a failed file or a silent NULL. Files are streamed in
batches (Polars' streaming scans; `.gz` is decompressed as it streams), so no file is held whole.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import polars as pl

from journey_analytics.sources.mapping import EMAIL_LIKE

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


_DATE_TIME = re.compile(r"(?<!\d)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                        r"(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?)?(?!\d)")
_DIGIT_RUN = re.compile(r"\d[\d ()./-]*\d")


def shown_columns(names: list[str]) -> str:
    """Column names for a message, with any that hold an email or what may be a phone number (a run of 7 or more
    digits, with spaces or punctuation between them, outside a date or time) redacted: a file without its header
    row has data there."""
    def shown(name: str) -> str:
        if re.search(EMAIL_LIKE, name):
            return "<redacted email>"
        runs = _DIGIT_RUN.findall(_DATE_TIME.sub(" ", name))
        return "<redacted>" if any(sum(c.isdigit() for c in run) >= 7 for run in runs) else name
    return ", ".join(map(shown, names))


def expand(pattern: Path) -> list[Path]:
    """The files a path or glob names, sorted so runs are deterministic; a path naming a file is that file,
    even when its name holds glob characters (`export[1].csv`). A link to nothing is listed too, so its file
    (on a mount that is down, say) is missed aloud, not in silence."""
    if pattern.is_file():
        return [pattern]
    return sorted(path for path in map(Path, glob.glob(str(pattern), recursive=True))
                  if path.is_file() or (path.is_symlink() and not path.exists()))


def _unreadable(path: Path, fmt: str, exc: Exception) -> SourceError:
    return SourceError(f"{path}: cannot be read as {fmt} ({str(exc).splitlines()[0]}). "
                       "Check the file's format, compression and encoding, or the source's `format`.")


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32's little-endian mark starts like UTF-16's


def _not_utf8(path: Path) -> SourceError | None:
    """The error for the first physical line that is not UTF-8, found in binary (a text reader decodes ahead,
    so its position is not the line's); None when every line decodes."""
    with (gzip.open if is_gzip(path) else open)(path, "rb") as fh:
        if fh.read(2) in UTF16_BOMS:
            return SourceError(f"{path}: is UTF-16 (it starts with a UTF-16 byte order mark, as Excel's \"Unicode "
                               "text\" writes). Save the file as UTF-8 (CSV UTF-8): journey reads UTF-8 only.")
        fh.seek(0)
        for line, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return SourceError(f"{path}: line {line} is not UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} "
                                   "of the line). Save the file as UTF-8: journey reads UTF-8 only.")
    return None


def _checked(batches: Iterator[pl.DataFrame], path: Path, fmt: str, delimiter: str = ",") -> Iterator[pl.DataFrame]:
    try:
        for batch in batches:
            yield batch.with_columns(pl.col(LINE).cast(pl.Int64))
    # a panic inside Polars is a BaseException: uncaught, it ended the run, not just this file
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        try:
            not_utf8 = None if fmt == "Parquet" else _not_utf8(path)
        except (OSError, EOFError):  # a truncated or corrupt .gz: the reader's own message says so
            not_utf8 = None
        if not_utf8:
            raise not_utf8 from exc
        where = _bad_line(path, delimiter) if fmt == "CSV" else ""
        if where:
            raise SourceError(f"{path}: cannot be read as CSV{where}. Fix that row (quote a value that holds a "
                              f"{_named(delimiter)} or a quote), or check the source's `format` and "
                              "`delimiter`.") from exc
        raise _unreadable(path, fmt, exc) from exc


def is_gzip(path: Path) -> bool:
    """Whether the file is gzip-compressed, by its first bytes (whatever its name)."""
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


@contextmanager
def _csv_text(path: Path) -> Iterator[TextIO]:
    """The file as text for Python's csv module (gzip and a UTF-8 BOM handled): used only to check the
    header and to find the line of a row the fast reader rejects."""
    with (gzip.open if is_gzip(path) else open)(path, "rt", encoding="utf-8-sig", newline="") as fh:
        yield fh


def _named(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def _trailing_delimiter(header: list[str]) -> bool:
    """Whether the header ends with a delimiter, as many ERP exports write every line: an unnamed last column."""
    return len(header) > 1 and not header[-1].strip()


def _checked_header(path: Path, columns: list[str], delimiter: str) -> None:
    """Reject a header the fast reader would misread: unnamed, repeated or quoted column names (Polars
    renames a repeated name and reads no row at all after a quote in the header)."""
    try:
        with _csv_text(path) as fh:
            records = csv.reader(fh, delimiter=delimiter)
            header = next((record for record in records if record), [])  # blank lines are skipped
    except UnicodeDecodeError as exc:
        raise (_not_utf8(path) or _unreadable(path, "CSV", exc)) from exc
    except (OSError, EOFError, csv.Error) as exc:
        raise _unreadable(path, "CSV", exc) from exc
    if any("\r" in name for name in columns) and not any("\r" in name for name in header):
        raise SourceError(f"{path}: its lines end with a carriage return alone (old Mac line endings), so it reads "
                          "as one line. Save it with LF or CRLF line endings.")
    named = header[:-1] if _trailing_delimiter(header) else header  # that unnamed column is not read
    problems = [f"column {i} has no name" for i, name in enumerate(named, start=1) if not name.strip()]
    problems += [f"column name {shown_columns([name])!r} appears {header.count(name)} times"
                 for name in dict.fromkeys(header) if name.strip() and header.count(name) > 1]
    problems += [f"column name {shown_columns([name])!r} contains a quote or a line break"
                 for name in header if any(ch in name for ch in "\"\r\n")]
    if not problems and header != columns:
        problems = [f"the header reads as [{shown_columns(header)}] but the CSV reader found [{shown_columns(columns)}]"]
    if problems:
        raise SourceError(f"{path}: the header row cannot be used: {'; '.join(problems)}. "
                          "Give every column one distinct, plain name in the file's first line.")


def _bad_line(path: Path, delimiter: str) -> str:
    """Where a CSV file the fast reader rejects goes wrong, for the error message: the first physical
    line with an odd number of quotes inside a value that does not start with one (the fast reader takes
    an even number as text), text after a closing quote, a quote never closed, or a row with more fields
    than the header; '' when none is found. Lines without a quote are checked by counting delimiters, so
    only lines with quotes are read character by character."""
    odd_quotes = "an odd number of quotes inside a value that does not start with one"
    width, fields, state, opened_at, line, inner = None, 1, "start", 0, 0, 0
    try:
        with _csv_text(path) as fh:
            for line, text in enumerate(fh, start=1):
                if state != "quoted" and '"' not in text:  # a whole record, or the end of a quoted one
                    fields += text.count(delimiter)
                    state = "record end"
                else:
                    for ch in text:
                        if state == "quoted":
                            state = "closed?" if ch == '"' else "quoted"
                        elif state == "closed?" and ch == '"':
                            state = "quoted"  # an escaped quote ("")
                        elif ch == delimiter or ch in "\r\n":
                            if state == "value" and inner % 2:
                                return f" at line {line}: {odd_quotes}"
                            fields, state = (fields + 1, "start") if ch == delimiter else (fields, "record end")
                        elif ch == '"' and state == "start":
                            state, opened_at = "quoted", line
                        elif state == "closed?":
                            return f" at line {line}: text after the closing quote of a value"
                        else:
                            inner = (inner if state == "value" else 0) + (ch == '"')
                            state = "value"
                if state in ("record end", "closed?", "value"):  # the record ended with this line
                    if state == "value" and inner % 2:
                        return f" at line {line}: {odd_quotes}"
                    if text.strip(" \r\n" + delimiter) or width is not None and fields > width:
                        if width is None:
                            width = fields
                        elif fields > width:
                            return f" at line {line}: {fields} fields where the header has {width}"
                    fields, state = 1, "start"
    except (OSError, EOFError, UnicodeDecodeError):
        return ""  # not a row's fault: the caller says what the reader found
    if state == "quoted":
        return f" at line {opened_at}: a quote opens a value that is never closed"
    return ""


def open_csv(path: Path, batch_rows: int = BATCH_ROWS, delimiter: str = ",") -> Opened:
    """All columns as strings; empty fields are null; line 1 is the header; values are separated by
    `delimiter`. Blank lines (and lines of only delimiters) are skipped, as in JSON lines; a row with fewer
    fields than the header reads the missing trailing fields as empty; a row with more fields fails the
    file with its line. A header ending with a delimiter has an unnamed last column, which is not read."""
    if os.access(path, os.R_OK) and path.stat().st_size == 0:
        return Opened([], iter(()))
    try:
        scan = pl.scan_csv(path, glob=False, infer_schema=False, separator=delimiter, row_index_name=LINE,
                           row_index_offset=2)
        columns = [c for c in scan.collect_schema().names() if c != LINE]
    except pl.exceptions.NoDataError:  # nothing but blank lines, a BOM or an empty .gz: as an empty file
        return Opened([], iter(()))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, "CSV", exc) from exc
    _checked_header(path, columns, delimiter)
    if _trailing_delimiter(columns):  # its values, empty or not, are not read, as any column the spec does not name
        scan, columns = scan.drop(columns[-1]), columns[:-1]
    if columns:
        scan = scan.filter(~pl.all_horizontal(pl.exclude(LINE).is_null()))
    return Opened(columns, _checked(scan.collect_batches(chunk_size=batch_rows), path, "CSV", delimiter))


def open_parquet(path: Path, batch_rows: int = BATCH_ROWS, keep: list[str] | None = None) -> Opened:
    """Typed columns as text; only the columns in `keep` (those the spec reads) are read, so a column
    the spec does not name is ignored whatever its type (a list, binary, duration). A binary column the spec
    reads is refused: its bytes would decode as text only while they happen to be UTF-8."""
    try:
        scan = pl.scan_parquet(path, glob=False, row_index_name=LINE, row_index_offset=1)
        columns = [c for c in scan.collect_schema().names() if c != LINE]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, "Parquet", exc) from exc
    if keep is not None:
        scan = scan.select([c for c in columns if c in keep] + [LINE])
    schema = scan.collect_schema()
    if binary := [name for name, dtype in schema.items() if dtype == pl.Binary and name != LINE]:
        raise SourceError(f"{path}: column(s) {shown_columns(binary)} the spec reads hold bytes (binary), which have "
                          "no text form here. Write them as text (e.g. hex) in the file, or leave them out of the spec.")
    batches = (as_text(b) for b in scan.collect_batches(chunk_size=batch_rows))
    return Opened(columns, _checked(batches, path, "Parquet"))


def open_jsonl(path: Path, batch_rows: int = BATCH_ROWS) -> Opened:
    """One JSON object per line, as text: the mapping SQL extracts the fields and flags malformed lines."""
    scan = (
        pl.scan_lines(path, glob=False, name=TEXT, row_index_name=LINE, row_index_offset=1)
        .filter(pl.col(TEXT).str.strip_chars_start("\ufeff").str.strip_chars() != "")  # a BOM alone is blank
    )
    return Opened(None, _without_bom(_checked(scan.collect_batches(chunk_size=batch_rows), path, "JSON lines")))


def _without_bom(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Drop a UTF-8 byte order mark from line 1 (only the first batch is touched)."""
    first = next(batches, None)
    if first is None:
        return
    if first.height and first[TEXT][0].startswith("\ufeff"):
        first = first.with_columns(
            pl.when(pl.col(LINE) == pl.col(LINE).min()).then(pl.col(TEXT).str.strip_prefix("\ufeff"))
            .otherwise(pl.col(TEXT)).alias(TEXT))
    yield first
    yield from batches


def open_file(path: Path, fmt: str, batch_rows: int = BATCH_ROWS, keep: list[str] | None = None,
              delimiter: str = ",") -> Opened:
    """`keep`: the columns the spec reads (Parquet reads no other; CSV and JSON lines are text anyway);
    `delimiter`: a CSV file's separator."""
    if not os.access(path, os.R_OK):
        raise SourceError(f"{path}: permission denied. Make the file readable by the user running journey.")
    if fmt == "csv":
        return open_csv(path, batch_rows, delimiter)
    if fmt == "parquet":
        return open_parquet(path, batch_rows, keep)
    return open_jsonl(path, batch_rows)


# The instants Polars can write as text, in microseconds since 1970: years 1 to 9999.
_WRITABLE_US = (-62_135_596_800_000_000, 253_402_300_799_999_999)


def _datetime_text(col: pl.Expr, unit: str, fmt: str, named: dict[int, str]) -> pl.Expr:
    """ISO-8601 text; an instant outside years 1-9999 (a corrupt Parquet value), which Polars cannot write (it
    panics, ending the whole run), becomes text saying so, or the word `named` gives its microseconds: its row is
    then quarantined as `unparsable_timestamp` where it is the event's time, or kept as that text in a property."""
    if unit == "ns":  # 64 bits of nanoseconds span 1677-2262: every value is writable
        return col.dt.to_string(fmt)
    low, high = (bound // (1_000 if unit == "ms" else 1) for bound in _WRITABLE_US)  # integers: exact bounds
    ticks = col.dt.epoch(unit)
    writable = ticks.is_between(low, high)
    text = (pl.when(writable).then(pl.when(writable).then(col).dt.to_string(fmt))
            .otherwise(ticks.cast(pl.String) + f" {unit} since 1970-01-01 (out of range)"))
    for us, word in named.items() if unit == "us" else ():
        text = pl.when(ticks == us).then(pl.lit(word)).otherwise(text)
    return text


def as_text(frame: pl.DataFrame, named_instants: dict[int, str] | None = None) -> pl.DataFrame:
    """Every column as text; times and durations as ISO-8601 (with the offset when the type carries a zone), or the
    word `named_instants` gives a time's microseconds since 1970; structs, lists and arrays as JSON text without
    spaces, as JSON lines read them."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if name == LINE:
            out.append(col)
        elif isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            out.append(_datetime_text(col, dtype.time_unit, fmt, named_instants or {}).alias(name))
        elif isinstance(dtype, pl.Duration):
            out.append(col.dt.to_string("iso").alias(name))  # ISO-8601: PT3.5S
        elif dtype.is_nested():
            # Polars encodes only structs as JSON: wrap the value as {"v":...} and keep the inside
            inside = pl.struct(col.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
            out.append(pl.when(col.is_null()).then(None).otherwise(inside).alias(name))
        else:
            out.append(col.cast(pl.String))
    return frame.select(out)
