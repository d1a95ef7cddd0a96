"""Deliberately bad rows, one kind per quarantine reason, each placed after a good row with its
physical line recorded, so ingest can be checked line by line.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import polars as pl

from journey_analytics.sample.world import BAD_REASONS, STAGE_EVENTS, URL_PATHS


@dataclass(frozen=True)
class _RowSpec:
    id_col: str
    ts_col: str
    name_col: str
    identifiers: tuple[str, ...]
    prefix: str
    garbage: tuple[str, ...]
    names: tuple[str, ...]
    header: bool


ROW_SPECS = {
    "web": _RowSpec("event_id", "timestamp", "event", ("anonymous_id", "user_id", "email"), "c-",
                    ("31/02/2026 25:61", "yesterday", "2026-13-45T99:99:99Z", "not a date"), tuple(URL_PATHS), False),
    "crm": _RowSpec("activity_id", "occurred_at", "activity", ("contact_id", "email"), "act-",
                    ("31/02/2026 25:61", "yesterday", "2026-02-30 10:00:00", "n/a"),
                    ("lead_created", "opportunity_created", "demo_completed", "order_placed", "renewal", "referral"),
                    True),
    "service": _RowSpec("interaction_id", "created_at", "interaction", ("requester_email",), "svc-",
                        ("31/02/2026 25:61", "yesterday", "2026-08-03T25:61:00-04:00", "soon"),
                        STAGE_EVENTS["post_purchase"], True),
}


def _spoil(rng: random.Random, row: dict, reason: str, spec: _RowSpec, new_id: str) -> dict:
    """Turn a copy of a good row into a bad row of the given kind (exactly one defect)."""
    if reason == "deduplicated":
        return row
    if reason == "duplicate_event_id":
        return row | {spec.name_col: rng.choice([n for n in spec.names if n != row[spec.name_col]])}
    row = row | {spec.id_col: new_id}
    if reason == "unparsable_timestamp":
        row[spec.ts_col] = rng.choice(spec.garbage)
    elif reason == "missing_required_field":
        row[rng.choice([spec.ts_col, spec.name_col])] = rng.choice([None, ""])
    elif reason == "missing_identifier":
        row.update(dict.fromkeys(spec.identifiers))
    elif reason == "timestamp_in_future":
        row[spec.ts_col] = ("2099" + row[spec.ts_col][4:]).replace("2099-02-29", "2099-02-28")
    return row


def add_bad_rows(rng: random.Random, df: pl.DataFrame, source: str,
                 next_id: dict[str, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Insert 10-20 bad rows per reason at random places (copies always after their original).

    Returns the rows in file order and one row per bad row: its physical line, reason and event id.
    """
    spec, n = ROW_SPECS[source], df.height
    per_reason = {r: min(rng.randint(10, 20), n // 12) for r in BAD_REASONS}
    origins = iter(rng.sample(range(n), sum(per_reason.values())))
    rows, anchors, reasons = [], [], []
    for reason, k in per_reason.items():
        copy = reason in ("deduplicated", "duplicate_event_id")  # keeps the original's event id
        for _ in range(k):
            i = next(origins)
            rows.append(_spoil(rng, df.row(i, named=True), reason, spec, f"{spec.prefix}{next_id[source]}"))
            next_id[source] += not copy
            anchors.append(rng.randint(i, n - 1) if copy else rng.randrange(n))  # a copy follows its original
            reasons.append(reason)
    bad = pl.DataFrame(rows, schema=df.schema, orient="row").with_columns(
        anchor=pl.Series(anchors, dtype=pl.Int64), sub=pl.int_range(1, len(rows) + 1, dtype=pl.Int64),
        expected=pl.Series(reasons, dtype=pl.String))
    good = df.with_columns(anchor=pl.int_range(n, dtype=pl.Int64), sub=pl.lit(0, pl.Int64),
                           expected=pl.lit(None, pl.String))
    merged = pl.concat([good, bad]).sort("anchor", "sub").with_row_index("line", offset=1 + spec.header)
    info = merged.filter(pl.col("sub") > 0).select(
        pl.col("line").cast(pl.Int64), "expected", event_id=pl.col(spec.id_col))
    return merged.drop("line", "anchor", "sub", "expected"), info
