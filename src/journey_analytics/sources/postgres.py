"""Read a PostgreSQL table or query through ADBC into Arrow batches.

DuckDB's postgres extension cannot be installed offline, and ADBC hands Arrow over without a
copy per value. Keep credentials out of journey.yaml: `uri: ${CRM_DATABASE_URL}` reads the
environment.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterator
from urllib.parse import quote as quote_url, unquote, urlsplit

import polars as pl
import pyarrow as pa

from journey_analytics.config import Source, lone_surrogate, without_secrets
from journey_analytics.sources.mapping import quote, referenced_columns
from journey_analytics.sources.readers import BATCH_ROWS, LINE, Opened, SourceError, as_text


def _wrapped(us: int) -> int:
    return (us + 2**63) % 2**64 - 2**63  # int64 arithmetic


# PostgreSQL's `infinity` and `-infinity` (the largest and smallest int64 microseconds since 2000) as the ADBC
# driver hands them over, shifted to 1970 in int64 arithmetic (`infinity` wraps around): read as those words
_SINCE_2000_US = 946_684_800_000_000
INFINITIES = {_wrapped(2**63 - 1 + _SINCE_2000_US): "infinity", _wrapped(-(2**63) + _SINCE_2000_US): "-infinity"}


def _storage(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Unwrap Arrow extension columns (PostgreSQL numeric, json) to their text storage."""
    columns = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def resolve_uri(source: Source) -> str:
    def env(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(f"source {source.name!r}: `uri` uses ${{{name}}} but the environment has no {name}. "
                              f"Export it before the run.")
        if lone_surrogate(os.environ[name]):  # bytes that are not UTF-8 (Python keeps them as surrogates)
            raise SourceError(f"source {source.name!r}: ${{{name}}} in `uri` is not valid UTF-8 text; "
                              "set it in a UTF-8 locale or percent-encode it")
        return os.environ[name]

    uri = re.sub(r"\$\{(\w+)\}", env, source.uri or "")
    # libpq splits at the first `@`: the rest of a password became a host name, shown in its error
    if re.match(r"[a-z]+://[^/?#]*@[^/?#]*@", uri):
        raise SourceError(f"source {source.name!r}: `uri` has two `@` before its host: write an `@` in the user "
                          "name or password as %40 (postgresql://user:p%40ss@host/db)")
    return uri


def _passwords(uri: str) -> set[str]:
    """Every reading of the URI's password: as a URL parser splits it (when the URI parses at all), as
    the text between the user's `:` and the last `@`, and as a `password=` parameter (`?password=...`, or
    a `key=value` connection string), percent-decoded or not."""
    found = set(re.findall(r"://[^:/@]*:(.*)@", uri)) | set(re.findall(r"(?:^|[?&\s])password\s*=\s*([^&\s]*)", uri))
    try:
        found.add(urlsplit(uri).password or "")
    except ValueError:  # an unparsable URI (say, an unclosed `[`): the pattern above still finds it
        pass
    return {form for p in found for form in (p, unquote(p), quote_url(unquote(p)))}


def _without_secrets(message: str, uri: str) -> str:
    """The driver may quote the URI or its password (say, in a parse error): neither reaches a message. What
    config errors mask is masked too (`config.without_secrets`), so the two never disagree on a form. libpq quotes
    any piece of a `key=value` connection string it cannot parse, such as the word after a blank in an unquoted
    password (`password=hunter2 s3c` gave `missing "=" after "s3c"`): there every quoted text is masked."""
    for secret in sorted(({uri} | _passwords(uri)) - {""}, key=len, reverse=True):
        message = message.replace(secret, "***")
    if "://" not in uri:
        message = re.sub(r'"[^"]*"', '"***"', message)
    return without_secrets(message)


def _is_binary(arrow_type: pa.DataType) -> bool:
    return pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type) or \
        pa.types.is_fixed_size_binary(arrow_type) or pa.types.is_binary_view(arrow_type)


def _no_text_form(source: Source, why: str, columns: str) -> SourceError:
    return SourceError(f"{describe(source)} ({source.name}): a column the spec reads cannot be read as text ({why}; "
                       f"columns: {columns}). Read the source through `query:` and cast that column, e.g. "
                       "`select id::text as id, encode(payload, 'hex') as payload, ...`.")


def _next_batch(reader: pa.RecordBatchReader, source: Source, uri: str, offset: int) -> pa.RecordBatch | None:
    """The next batch, None at the end. The server may fail while it sends rows (say, a cast in `query` meets a
    bad value); its message quotes that value, which may be personal, so quoted text is not shown."""
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        # from the first quote to the last: a quoted value may hold quotes itself
        message = re.sub(r'".*"', '"<redacted>"', _without_secrets(first, uri))
        raise SourceError(f"{describe(source)} ({source.name}): the server failed while sending the rows from row "
                          f"{offset} on: {message}. Check `query` (or the table) on the server.") from None


def describe(source: Source) -> str:
    """How the source shows in the manifest and messages (never the URI: it may hold a password)."""
    return f"postgres:{source.table}" if source.table else "postgres:query"


def open_postgres(source: Source, batch_rows: int = BATCH_ROWS) -> Opened:
    import adbc_driver_postgresql.dbapi as pg

    table = ".".join(quote(part) for part in source.table.split(".")) if source.table else None  # schema.table
    sql = f"select * from {table}" if table else source.query
    uri = resolve_uri(source)
    held: list = []  # the connection and its cursor, closed in reverse order whatever happens

    def close() -> None:
        while held:
            held.pop().close()

    try:
        conn = pg.connect(uri)
        held.append(conn)
        cursor = conn.cursor()
        held.append(cursor)
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
    except Exception as exc:  # the driver's errors carry the server's message
        close()  # left open, the driver printed "Exception ignored ... open AdbcStatement" when they were collected
        raise SourceError(f"{describe(source)} ({source.name}): {_without_secrets(str(exc).splitlines()[0], uri)}. "
                          "Check `uri`, `table`/`query` and that the server is reachable.") from None
    columns = [f.name for f in reader.schema]
    referenced = referenced_columns(source)
    kept = [c for c in columns if c in referenced]  # any other column is not read, whatever its type
    if binary := [f for f in reader.schema if f.name in kept and _is_binary(f.type)]:
        close()  # bytes decode as text only while they happen to be UTF-8: refused whatever the values
        raise _no_text_form(source, "bytes (binary) have no text form here",
                            ", ".join(f"{f.name} {f.type}" for f in binary))

    def batches() -> Iterator[pl.DataFrame]:
        offset = 1
        try:
            while (record_batch := _next_batch(reader, source, uri, offset)) is not None:
                try:
                    frame = as_text(pl.from_arrow(_storage(record_batch.select(kept))), INFINITIES)
                except (pl.exceptions.PolarsError, pl.exceptions.PanicException, pa.ArrowException) as exc:
                    types = ", ".join(f"{f.name} {f.type}" for f in record_batch.schema if f.name in kept)
                    raise _no_text_form(source, str(exc).splitlines()[0], types) from exc
                frame = frame.with_columns(pl.int_range(offset, offset + frame.height, dtype=pl.Int64).alias(LINE))
                offset += frame.height
                yield from frame.iter_slices(batch_rows)  # the driver's batches have a size of their own
        finally:
            close()

    read = batches()
    weakref.finalize(read, close)  # also when the batches are never read (the file's columns were refused)
    return Opened(columns, read)
