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


def main() -> None:
    from journey_analytics.cli import prefect_defaults
    from journey_analytics.config import load_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cron", default="30 2 * * *", help="when to run (cron syntax, in --timezone)")
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--config", default="journey.yaml")
    args = parser.parse_args()
    prefect_defaults(load_config(args.config).base_dir)
    from prefect.schedules import Cron
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        sys.exit(NO_SERVER)

    from pipelines.nightly import nightly

    nightly.serve(name="nightly", schedule=Cron(args.cron, timezone=args.timezone), global_limit=1,
                  parameters={"config_path": args.config},
                  description="Ingest, stitch, stage, measure and report — every night, one run at a time.")


if __name__ == "__main__":
    main()
