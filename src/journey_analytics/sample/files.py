"""Writing a generated chunk: the source files, and the ground truth the tests check answers against.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from journey_analytics.sample.draws import KIOSK_COOKIE
from journey_analytics.sample.world import KIOSK_USERS, SOURCES


def _write_rows(df: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        df.write_ndjson(path)
    else:
        df.write_csv(path)


def write_chunk(out_dir: Path, chunk: dict[str, pl.DataFrame], names: dict[str, str],
                files: dict[str, int]) -> pl.DataFrame:
    """Write the three source files of one chunk; return its bad-row list with source and file."""
    bad = []
    for source in SOURCES:
        _write_rows(chunk[source], out_dir / names[source])
        files[names[source]] = chunk[source].height
        bad.append(chunk[f"bad_{source}"].select(source=pl.lit(source), file=pl.lit(names[source]),
                                                 line="line", expected="expected", event_id="event_id"))
    return pl.concat(bad)


def clear_outputs(out_dir: Path) -> None:
    """Remove what an earlier generation wrote, so stale part files never join the glob in journey.yaml."""
    for pattern in ("clickstream/*.jsonl", "crm/*.csv", "service/*.csv"):
        for path in out_dir.glob(pattern):
            path.unlink()
    shutil.rmtree(out_dir / "ground_truth", ignore_errors=True)


GROUND_TRUTH_README = """# Ground truth of the generated sample

Written by `journey_analytics.sample` together with the raw files; the pipeline never reads it.

- `persons{suffix}`: one row per (person_id, id_type, id_value); id_type is anonymous_id, user_id,
  email (trimmed + lowercased, not hashed) or contact_id. The shared kiosk cookie `{kiosk}` belongs
  to nobody: it is seen with {kiosk_users} user ids, more than identity.max_links.
- `events{suffix}`: one row per good event (every loadable row exactly once): source (web|crm|service),
  event_id, person_id, event_name, occurred_at (UTC), true_stage.
- `bad_rows.csv`: source, file (relative to the data folder), line (1-based physical line; CSV header is
  line 1), expected (a quarantine reason, or `deduplicated` for exact copies), event_id. A copy that
  reuses an event id (`deduplicated`, `duplicate_event_id`) always comes after its original in the same
  file: the first occurrence is the good row.
"""


def write_truth(out_dir: Path, chunk: dict[str, pl.DataFrame], part: str | None) -> None:
    gt = out_dir / "ground_truth"
    for name in ("events", "persons"):
        path = gt / name / f"part-{part}.parquet" if part else gt / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        chunk["truth" if name == "events" else "persons"].write_parquet(path, compression="zstd",
                                                                       compression_level=19)


def finish_truth(out_dir: Path, bad: list[pl.DataFrame], chunked: bool) -> None:
    gt = out_dir / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    order = {s: i for i, s in enumerate(SOURCES)}
    rows = pl.concat(bad).sort(pl.col("source").replace_strict(order), "file", "line")
    rows.write_csv(gt / "bad_rows.csv")
    (gt / "README.md").write_text(GROUND_TRUTH_README.format(
        suffix="/part-*.parquet" if chunked else ".parquet", kiosk=KIOSK_COOKIE, kiosk_users=KIOSK_USERS))
