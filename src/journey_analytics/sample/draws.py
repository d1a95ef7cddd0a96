"""Seeded randomness as Polars columns: uniform draws from `random.Random` (byte-identical on every
machine), categorical picks, log-uniform gaps, and the scrambled ids that look random but are unique.
"""

from __future__ import annotations

import math
import random

import polars as pl
import pyarrow as pa


def _uniform(rng: random.Random, n: int) -> pl.Series:
    """n floats in [0, 1) from the stdlib Mersenne Twister, as one Polars column (fast, seeded, portable)."""
    buf = pa.py_buffer(rng.randbytes(4 * n))
    return pl.from_arrow(pa.Array.from_buffers(pa.uint32(), n, [None, buf])).cast(pl.Float64) / 2.0**32


def with_uniforms(rng: random.Random, df: pl.DataFrame, names: str) -> pl.DataFrame:
    return df.with_columns(_uniform(rng, df.height).alias(f"u_{n}") for n in names.split())


def pick(u: str, weights: dict[str, float]) -> pl.Expr:
    """Categorical draw: the key whose cumulative weight band holds `u`."""
    keys, expr, acc = list(weights), None, 0.0
    for key in keys[:-1]:
        acc += weights[key]
        expr = (pl.when(pl.col(u) < acc) if expr is None else expr.when(pl.col(u) < acc)).then(pl.lit(key))
    return expr.otherwise(pl.lit(keys[-1])) if expr is not None else pl.lit(keys[-1])


def log_uniform(u: str | pl.Expr, lo: float, hi: float) -> pl.Expr:
    """Gap in whole seconds, log-uniform in [lo, hi): many short gaps, a long tail."""
    u = pl.col(u) if isinstance(u, str) else u
    return (lo * (math.log(hi / lo) * u).exp()).floor().cast(pl.Int64)


def lookup(idx: pl.Expr, values: list[str]) -> pl.Expr:
    return idx.cast(pl.Int64).replace_strict(list(range(len(values))), values, return_dtype=pl.String)


def hex12(x: pl.Expr) -> pl.Expr:
    """Bijective scramble of an integer into 12 hex digits (unique cookies that look random)."""
    mask = (1 << 48) - 1
    h = (x.cast(pl.UInt64) * 0x9E3779B97F4A7C15) & mask
    h = (h ^ (h // (1 << 24))) * 0xBF58476D1CE4E5B9 & mask
    digits = [lookup((h // (16**i)) % 16, list("0123456789abcdef")) for i in reversed(range(12))]
    return pl.concat_str(digits)


# One cookie for 30 people: the image of the largest 48-bit code, which no person-device code reaches.
KIOSK_COOKIE = "a-" + pl.select(hex12(pl.lit((1 << 48) - 1, pl.UInt64))).item()
