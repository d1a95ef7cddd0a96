"""Deterministic sample data for journey-analytics, with the ground truth to check answers against.

Simulated people walk the journey stages (awareness → consideration → purchase → post_purchase →
advocacy) with drop-off at every stage, loops back, second attempts and second devices. Their
touchpoints are written in the three raw formats `journey.yaml` reads:

- `clickstream/*.jsonl` (web): UTC `Z` timestamps (~10% with an explicit offset), cookies, user ids;
- `crm/*.csv`: naive Europe/Berlin local times, contact ids, messy raw emails;
- `service/*.csv`: America/New_York offsets, requester emails, CSAT/NPS on survey rows;

plus deliberately bad rows (`bad_rows=True`) and `ground_truth/` (persons, good events, bad rows).

Why it is built this way:
- Randomness comes only from `random.Random` (seeded per chunk) turned into Polars columns through
  `randbytes`, so one seed gives byte-identical files on every machine with the locked Polars, and
  the whole simulation is vectorised (hundreds of thousands of events per second, no numpy).
- People are simulated in chunks that are written and dropped, so `generate_stream` can write 1e8
  events with the memory of one chunk.

Example::

    >>> from pathlib import Path
    >>> from journey_analytics.sample import generate
    >>> summary = generate(Path("data/sample"))          # doctest: +SKIP
    >>> summary.events                                     # doctest: +SKIP
    {'web': ..., 'crm': ..., 'service': ...}
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from journey_analytics.sample.draws import KIOSK_COOKIE
from journey_analytics.sample.faults import add_bad_rows
from journey_analytics.sample.files import clear_outputs, finish_truth, write_chunk, write_truth
from journey_analytics.sample.formats import format_events
from journey_analytics.sample.simulate import person_attrs, simulate_events, simulate_people
from journey_analytics.sample.world import (
    BAD_REASONS, DAY, DEFAULT_START, EVENTS_PER_CUSTOMER, FILES, KIOSK_USERS, PART_FILES, SOURCES, STAGE_EVENTS,
    TRUE_STAGE,
)

__all__ = [
    "BAD_REASONS", "DEFAULT_START", "KIOSK_COOKIE", "KIOSK_USERS", "SOURCES", "STAGE_EVENTS", "TRUE_STAGE",
    "SampleSummary", "generate", "generate_stream", "main",
]


@dataclass(frozen=True)
class SampleSummary:
    """What a generation wrote.

    `persons`: people with at least one event; `events`: good events per source; `bad_rows`: extra bad
    rows per expected outcome (quarantine reason or `deduplicated`); `files`: data rows (good + bad,
    header excluded) per written file, keyed by the path relative to the output folder.
    """

    persons: int
    events: dict[str, int]
    bad_rows: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


def _chunk(seed: int, index: int, first: int, n: int, start: datetime, days: int, bad_rows: bool,
           next_id: dict[str, int], truth: bool) -> dict:
    """Simulate persons first..first+n-1 with their own random stream (chunks are independent)."""
    rng = random.Random(seed * 1_000_003 + index)
    people, start_s = simulate_people(rng, first, n, days * DAY), int(start.timestamp())
    events = simulate_events(rng, people, days * DAY, start_s)
    out = format_events(events, person_attrs(people), start_s * 1000, next_id, truth)
    out["n_good"] = {source: out[source].height for source in SOURCES}
    for source in SOURCES:
        bad = pl.DataFrame(schema={"line": pl.Int64, "expected": pl.String, "event_id": pl.String})
        if bad_rows and out[source].height:
            out[source], bad = add_bad_rows(rng, out[source], source, next_id)
        out[f"bad_{source}"] = bad
    return out


def _summary(persons: int, events: dict[str, int], bad: list[pl.DataFrame], files: dict[str, int]) -> SampleSummary:
    counts = pl.concat(bad).group_by("expected").len() if bad else pl.DataFrame({"expected": [], "len": []})
    per_reason = dict(zip(counts["expected"], counts["len"], strict=True))
    return SampleSummary(persons, events, {r: per_reason.get(r, 0) for r in BAD_REASONS}, files)


# --------------------------------------------------------------------------------------------- public API
def generate(out_dir: Path, *, customers: int = 2500, seed: int = 7, start: datetime = DEFAULT_START,
             days: int = 120, bad_rows: bool = True) -> SampleSummary:
    """Write the small sample (`events.jsonl`, `activities.csv`, `interactions.csv`) and its ground truth.

    Same arguments give byte-identical files. Events fall in [start, start + days), except the bad
    rows dated 2099.
    """
    out_dir = Path(out_dir)
    clear_outputs(out_dir)
    chunk = _chunk(seed, 0, 1, customers, start, days, bad_rows, dict.fromkeys(SOURCES, 1), truth=True)
    files: dict[str, int] = {}
    bad = write_chunk(out_dir, chunk, FILES, files)
    write_truth(out_dir, chunk, None)
    finish_truth(out_dir, [bad], chunked=False)
    return _summary(chunk["n_persons"], chunk["n_good"], [bad], files)


def generate_stream(out_dir: Path, *, events: int | None = None, customers: int | None = None, seed: int = 7,
                    start: datetime = DEFAULT_START, days: int = 120, chunk_customers: int = 50_000,
                    bad_rows: bool = True, ground_truth: bool = False) -> SampleSummary:
    """Write a large data set as part files, one chunk of `chunk_customers` people at a time.

    Give either `events` (an approximate target of good events: chunks are sized from the rate seen so
    far and generation stops within ~1% of it) or `customers`. Memory is that of one chunk. With
    `ground_truth`, per-chunk parquet parts go to `ground_truth/events/` and `ground_truth/persons/`.
    """
    if (events is None) == (customers is None):
        raise ValueError("give exactly one of events= or customers=")
    out_dir = Path(out_dir)
    clear_outputs(out_dir)
    next_id, files, bad = dict.fromkeys(SOURCES, 1), {}, []
    counts, persons, done, index = dict.fromkeys(SOURCES, 0), 0, 0, 0
    while True:
        total = sum(counts.values())
        if customers is not None:
            n = min(chunk_customers, customers - done)
        else:
            rate = total / done if done else EVENTS_PER_CUSTOMER
            n = 0 if total >= 0.99 * events else min(chunk_customers, math.ceil((events - total) / rate))
        if n <= 0:
            break
        chunk = _chunk(seed, index, done + 1, n, start, days, bad_rows, next_id, truth=ground_truth)
        names = {s: PART_FILES[s].format(index + 1) for s in SOURCES}
        bad.append(write_chunk(out_dir, chunk, names, files))
        if ground_truth:
            write_truth(out_dir, chunk, f"{index + 1:05d}")
        counts = {s: counts[s] + chunk["n_good"][s] for s in SOURCES}
        persons += chunk["n_persons"]
        done, index = done + n, index + 1
        del chunk
    if ground_truth:
        finish_truth(out_dir, bad, chunked=True)
    return _summary(persons, counts, bad, files)


def _positive(text: str) -> int:
    """A whole number >= 1: `--customers 0` used to write the default 2,500 and `--days -1` an empty sample."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def main(argv: list[str] | None = None) -> None:
    """`python -m journey_analytics.sample OUT_DIR [--customers N] [--seed S] [--events N]`."""
    ap = argparse.ArgumentParser(prog="python -m journey_analytics.sample", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--customers", type=_positive, help="people to simulate (default 2500 for the small sample)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=_positive, default=120)
    ap.add_argument("--events", type=_positive, help="approximate good events: chunked part files (benchmarks)")
    ap.add_argument("--chunk-customers", type=_positive, default=50_000)
    ap.add_argument("--ground-truth", action="store_true", help="with --events: also write ground-truth parts")
    ap.add_argument("--no-bad-rows", action="store_true")
    args = ap.parse_args(argv)
    began = time.perf_counter()
    if args.events:
        summary = generate_stream(args.out_dir, events=args.events, seed=args.seed, days=args.days,
                                  chunk_customers=args.chunk_customers, bad_rows=not args.no_bad_rows,
                                  ground_truth=args.ground_truth)
    else:
        summary = generate(args.out_dir, customers=args.customers or 2500, seed=args.seed, days=args.days,
                           bad_rows=not args.no_bad_rows)
    secs = time.perf_counter() - began
    print(f"{summary.persons:,} persons; good events {summary.events} ({summary.total_events:,}); "
          f"bad rows {summary.bad_rows}; {len(summary.files)} files in {args.out_dir}")
    print(f"{secs:.2f} s, {summary.total_events / secs:,.0f} events/s")

