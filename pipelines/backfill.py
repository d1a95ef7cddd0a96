"""Rebuild the marts as of each past night, so the trends have history from the first day.

    uv run python -m pipelines.backfill --from 2026-10-01 --to 2026-10-31 [--config journey.yaml]

Each night is one run of the nightly flow (a subflow) with `as_of` at that midnight, UTC. Ingest
reads only files it has not read yet, so a backfill over data already loaded just recomputes.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta, timezone

from prefect import flow

from pipelines.nightly import RunSummary, nightly


@flow(name="journey-backfill")
def backfill(start: date, end: date, config_path: str = "journey.yaml") -> list[RunSummary]:
    """One nightly run per day from `start` to `end` inclusive, oldest first."""
    days = (end - start).days + 1
    if days < 1:
        raise ValueError(f"backfill: --to {end} is before --from {start}")
    nights = [datetime.combine(start + timedelta(days=d), time(0), tzinfo=timezone.utc) for d in range(days)]
    return [nightly(config_path=config_path, as_of=night) for night in nights]


def main() -> None:
    from journey_analytics.cli import prefect_defaults
    from journey_analytics.config import load_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    parser.add_argument("--config", default="journey.yaml")
    args = parser.parse_args()
    prefect_defaults(load_config(args.config).base_dir)
    backfill(args.start, args.end, args.config)


if __name__ == "__main__":
    main()
