"""Map a raw frame of one source onto the canonical batch the ingest SQL reads.

The canonical batch has a fixed schema whatever the source looks like:
`line, malformed, event_id, occurred_at_raw, event_name, channel, identifiers, properties, raw_record`.
Personal identifiers are normalised and hashed here, so raw values never reach the warehouse.
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

from journey_analytics.config import Condition, Config, Source
from journey_analytics.sources.readers import LINE, MALFORMED, RAW


def referenced_columns(source: Source) -> list[str]:
    """Every source column the spec reads, in a stable order."""
    cols = [c for c in (source.columns.event_id, source.columns.occurred_at, source.columns.event_name) if c]
    cols += list(source.identifiers.values())
    for cases in source.derive.values():
        for case in cases:
            cols += list(case.when)
            if not isinstance(case.then, str):
                cols.append(case.then.column)
    cols += list(source.properties)
    return list(dict.fromkeys(cols))


def required_columns(source: Source) -> list[str]:
    cols = [c for c in (source.columns.event_id, source.columns.occurred_at, source.columns.event_name) if c]
    return cols + list(source.identifiers.values())


def normalise(value: str, kind: str) -> str:
    """Emails: trimmed, lower case. Phones: digits with an optional leading +."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" + digits) if value.startswith("+") else digits


def pii_hash(value: str, kind: str, salt: str) -> str:
    """Salted SHA-256 of the normalised value, hex."""
    return hashlib.sha256(f"{salt}:{normalise(value, kind)}".encode()).hexdigest()


def _hash_column(col: pl.Series, kind: str, salt: str) -> pl.Series:
    # Hash each distinct value once: far fewer distinct emails than rows.
    uniques = col.drop_nulls().unique()
    mapping = {v: pii_hash(v, kind, salt) for v in uniques.to_list() if v.strip()}
    return col.replace_strict(mapping, default=None, return_dtype=pl.String)


def like_to_regex(pattern: str) -> str:
    out = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return f"^{out}$"


def glob_to_regex(pattern: str) -> str:
    out = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return f"^{out}$"


def condition_expr(column: str, cond: Condition) -> pl.Expr:
    op, value = cond.op
    col = pl.col(column)
    match op:
        case "equals":
            return col == value
        case "in":
            return col.is_in(list(value))
        case "like":
            return col.str.contains(like_to_regex(value))
        case "glob":
            return col.str.contains(glob_to_regex(value))
        case "regex":
            return col.str.contains(value)
    raise AssertionError(op)


def _derived(source: Source, field: str) -> pl.Expr:
    cases = source.derive.get(field)
    if not cases:
        return pl.lit(None, dtype=pl.String)
    expr: pl.Expr | None = None
    otherwise: pl.Expr = pl.lit(None, dtype=pl.String)
    for case in cases:
        value = pl.lit(case.then) if isinstance(case.then, str) else pl.col(case.then.column)
        if not case.when:
            otherwise = value
            break
        cond = pl.all_horizontal([condition_expr(c, k).fill_null(False) for c, k in case.when.items()])
        expr = pl.when(cond).then(value) if expr is None else expr.when(cond).then(value)
    return otherwise if expr is None else expr.otherwise(otherwise)


def _blank_to_null(name: str) -> pl.Expr:
    col = pl.col(name).str.strip_chars()
    return pl.when(col == "").then(None).otherwise(col).alias(name)


def to_batch(frame: pl.DataFrame, source: Source, config: Config) -> pl.DataFrame:
    """The canonical batch for one batch of raw rows (columns the spec reads but the rows lack are null)."""
    for col in referenced_columns(source):
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    frame = frame.with_columns(_blank_to_null(c) for c in frame.columns if frame[c].dtype == pl.String)

    pii = {t.name: t.pii for t in config.identity.types if t.pii}
    for id_type, col in source.identifiers.items():
        if id_type in pii:
            frame = frame.with_columns(_hash_column(frame[col], pii[id_type], config.hash_salt).alias(col))

    data_cols = [c for c in frame.columns if not c.startswith("__")]
    identifiers = pl.concat_list(
        pl.struct(pl.lit(id_type).alias("id_type"), pl.col(col).alias("id_value"))
        for id_type, col in source.identifiers.items()
    ).list.eval(pl.element().filter(pl.element().struct.field("id_value").is_not_null()))
    raw_record = pl.struct(data_cols).struct.json_encode() if data_cols else pl.lit("{}")
    if RAW in frame.columns:
        raw_record = pl.coalesce(pl.col(RAW), raw_record)
    properties = pl.struct(list(source.properties)).struct.json_encode() if source.properties else pl.lit("{}")
    cols = source.columns
    return frame.select(
        pl.col(LINE).alias("line"),
        pl.col(MALFORMED).alias("malformed"),
        (pl.col(cols.event_id) if cols.event_id else pl.lit(None, dtype=pl.String)).alias("event_id"),
        pl.col(cols.occurred_at).alias("occurred_at_raw"),
        pl.col(cols.event_name).alias("event_name"),
        _derived(source, "channel").alias("channel"),
        identifiers.alias("identifiers"),
        properties.alias("properties"),
        raw_record.alias("raw_record"),
    )
