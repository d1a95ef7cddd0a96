"""Serve the nightly flow on a schedule (a long-running process; Prefect's scheduler triggers it).

    uv run python -m pipelines.deploy [--cron "30 2 * * *"] [--config journey.yaml]

With PREFECT_API_URL pointing at a Prefect server the deployment appears in its UI; without one,
`serve` runs against a local API. Run it under a process supervisor (systemd, supervisord) so it
restarts with the machine. A plain crontab line calling `journey run` works too: see docs/operations.md.
"""

from __future__ import annotations

import argparse


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

    from pipelines.nightly import nightly

    nightly.serve(name="nightly", schedule=Cron(args.cron, timezone=args.timezone), global_limit=1,
                  parameters={"config_path": args.config},
                  description="Ingest, stitch, stage, measure and report — every night, one run at a time.")


if __name__ == "__main__":
    main()
