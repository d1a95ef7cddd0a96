"""Read one source file into a frame of strings with its physical line numbers.

Everything is read as text: types are decided later, in SQL, so a bad value becomes a
quarantined row with a reason instead of a failed file or a silent NULL.
"""

from __future__ import annotations

import glob
import gzip
import io
from pathlib import Path

import polars as pl

LINE = "__line"
MALFORMED = "__malformed"
RAW = "__raw"  # the text of a malformed line, emails redacted: kept for the quarantine
EMAIL_LIKE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


class SourceError(RuntimeError):
    """A source cannot be read as declared; the message says which file and how to fix it."""


def expand(pattern: Path) -> list[Path]:
    """The files a path or glob names, sorted so runs are deterministic."""
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())


def _bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def read_csv(path: Path, columns: list[str]) -> pl.DataFrame:
    """All columns as strings; empty fields are null; line 1 is the header."""
    try:
        frame = pl.read_csv(io.BytesIO(_bytes(path)), infer_schema=False)
    except pl.exceptions.NoDataError:
        return pl.DataFrame({LINE: [], MALFORMED: [], **{c: [] for c in columns}},
                            schema={LINE: pl.Int64, MALFORMED: pl.Boolean, **{c: pl.String for c in columns}})
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise SourceError(f"{path}: cannot be read as CSV ({exc}). Check the file's format and encoding.") from exc
    return frame.with_columns(
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE), pl.lit(False).alias(MALFORMED)
    )


def read_jsonl(path: Path, columns: list[str]) -> pl.DataFrame:
    """One JSON object per line; the declared keys are extracted as text; a line that is not JSON is malformed."""
    try:
        text = _bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot be read as UTF-8 JSON lines ({exc}).") from exc
    lines = pl.Series("raw", text.splitlines(), dtype=pl.String)
    frame = pl.DataFrame({LINE: pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True), "raw": lines})
    frame = frame.filter(pl.col("raw").str.strip_chars() != "")
    raw = pl.col("raw")
    malformed = raw.str.json_path_match("$").is_null()
    return frame.select(
        LINE,
        malformed.alias(MALFORMED),
        pl.when(malformed).then(raw.str.replace_all(EMAIL_LIKE, "<redacted email>")).alias(RAW),
        *[raw.str.json_path_match(f"$['{c}']").alias(c) for c in columns],
    )


def read_parquet(path: Path, columns: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise SourceError(f"{path}: cannot be read as Parquet ({exc}).") from exc
    return frame.select(pl.all().cast(pl.String)).with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE), pl.lit(False).alias(MALFORMED)
    )


READERS = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}
