"""Serve the nightly flow on a schedule (a long-running process; Prefect's scheduler triggers it).

    uv run python -m pipelines.deploy [--cron "30 2 * * *"] [--config journey.yaml]

Prefect schedules only through a server: start one (`uv run prefect server start`, itself a long-running
process) and point PREFECT_API_URL at it; the deployment then appears in its UI. Without one this exits
with that instruction (Prefect's ephemeral server cannot schedule, so the flow would never run). Run both
under a process supervisor (systemd, supervisord) so they restart with the machine. A plain crontab line
calling `journey run` needs no server: see docs/operations.md.
"""

from __future__ import annotations

import argparse
import sys

NO_SERVER = (
    "pipelines.deploy: Prefect schedules runs only through a Prefect server, and PREFECT_API_URL is not set.\n"
    "Start one in another process (`uv run prefect server start`), then\n"
    "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
    "and run this again. Or schedule `journey run` with cron, which needs no server (docs/operations.md)."
)


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped. Exit 2 on bad input (the message says which and how to fix), 1 without a server."""
    from journey_analytics.cli import prefect_defaults
    from journey_analytics.config import ConfigError, iana_zone, load_config
    from pipelines.local_api import unreachable

    parser = argparse.ArgumentParser(prog="python -m pipelines.deploy", description=__doc__,  # not deploy.py
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cron", default="30 2 * * *", help="when to run (cron syntax, in --timezone)")
    parser.add_argument("--timezone", default="UTC", help="IANA time zone of --cron, e.g. Europe/Berlin")
    parser.add_argument("--config", default="journey.yaml")
    args = parser.parse_args(argv)
    try:
        iana_zone(args.timezone)
    except ValueError:
        parser.error(f"--timezone {args.timezone!r} is not an IANA time zone name like Europe/Berlin or UTC")
    try:
        prefect_defaults(load_config(args.config).base_dir, logging_level="INFO")
    except ConfigError as exc:
        print(f"pipelines.deploy: {exc}", file=sys.stderr)
        return 2
    from prefect.schedules import Cron
    from prefect.settings import get_current_settings

    try:
        schedule = Cron(args.cron, timezone=args.timezone)
    except ValueError:
        parser.error(f"--cron {args.cron!r} is not a cron expression: five fields, minute hour day month weekday, "
                     "e.g. '30 2 * * *' (02:30 every day)")
    if not get_current_settings().api.url:
        print(NO_SERVER, file=sys.stderr)
        return 1
    if why := unreachable():
        print(f"pipelines.deploy: {why}.", file=sys.stderr)
        return 1

    from pipelines.nightly import nightly

    nightly.serve(name="nightly", schedule=schedule, global_limit=1, parameters={"config_path": args.config},
                  description="Ingest, stitch, stage, measure and report — every night, one run at a time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
