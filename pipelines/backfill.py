"""Rebuild the marts as of each past night, so the trends have history from the first day.

    uv run python -m pipelines.backfill --from 2026-10-01 --to 2026-10-31 [--config journey.yaml]

Each night is one run of the nightly flow (a subflow of the `journey-backfill` flow in
pipelines/nightly.py) with `as_of` at that day's midnight in `report.timezone`, the zone the report shows
dates in. Ingest reads only files it has not read yet, so a backfill over data already loaded just
recomputes. Prefect is imported only after its
project-local defaults are set (it reads its settings once, on import).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-10-01") from None


def main(argv: list[str] | None = None) -> int:
    """Exit codes as `journey run`: 0 done, 1 a night failed (the nights before it are built), 2 bad input."""
    from journey_analytics.cli import prefect_defaults, ready_to_run
    from journey_analytics.config import ConfigError, load_config
    from journey_analytics.interrupts import interruptible
    from journey_analytics.warehouse import WarehouseError

    parser = argparse.ArgumentParser(prog="python -m pipelines.backfill", description=__doc__,  # not backfill.py
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", type=_day, required=True)
    parser.add_argument("--to", dest="end", type=_day, required=True)
    parser.add_argument("--config", default="journey.yaml")
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error(f"--to {args.end} is before --from {args.start}")
    try:
        config = load_config(args.config)  # fail fast, before Prefect starts
        zone = config.report.timezone
        today = datetime.now(ZoneInfo(zone)).date()
        if args.end > today:  # its midnight is in the future, as a run's as-of cannot be
            parser.error(f"--to {args.end} is in the future (today is {today} in {zone}, report.timezone): "
                         "backfill nights up to today; the nightly run covers the rest")
        with ready_to_run(config):  # held until the last night is done
            prefect_defaults(config.base_dir)
            return interruptible(lambda: _backfill(args, zone), "backfill")
    except (ConfigError, WarehouseError) as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return 2


def _backfill(args: argparse.Namespace, zone: str) -> int:
    from journey_analytics.metrics import AuditError
    from pipelines.local_api import local_api
    from pipelines.nightly import RunStopped, SourcesFailed, backfill, quiet_console

    quiet_console()
    try:
        with local_api():
            nights = backfill(args.start, args.end, args.config)
    except (SourcesFailed, AuditError, RunStopped) as exc:
        night = getattr(exc, "night", None)
        failed = (f"the night as of {night.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone} failed "
                  "(the nights before it are built): "
                  if night else "")
        print(f"backfill: {failed}{exc}", file=sys.stderr)
        return 1
    first, last = (n.run.as_of.astimezone(ZoneInfo(zone)) for n in (nights[0], nights[-1]))
    print(f"backfill: {len(nights)} night(s) built, as of {first:%Y-%m-%d} to {last:%Y-%m-%d %H:%M} {zone}; "
          f"{nights[-1].report.parent.parent / 'latest'} shows the last of them until the next nightly run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
