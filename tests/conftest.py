"""Shared test set-up: a project-local Prefect home, and one end-to-end run of the bundled sample."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

SAMPLE_AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)  # just after the sample's last day
MART_TABLES = ("funnel_steps", "path_frequencies", "sankey_links", "time_in_stage")


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """A copy of the config and sample, run twice with `journey run --as-of` (real Prefect flow runs).

    Yields (config, read-only connection to the warehouse, the marts after the first run).
    """
    from journey_analytics.cli import main
    from journey_analytics.config import load_config

    folder = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "journey.yaml", folder / "journey.yaml")
    for kind in ("clickstream", "crm", "service"):
        shutil.copytree(ROOT / "data" / "sample" / kind, folder / "data" / "sample" / kind)
    args = ["run", "--config", str(folder / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()]
    assert main(args) == 0
    config = load_config(folder / "journey.yaml")
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        first = {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in MART_TABLES}
    assert main(args) == 0  # the same night again: nothing new to read
    con = duckdb.connect(str(config.warehouse_path), read_only=True)
    yield config, con, first
    con.close()
