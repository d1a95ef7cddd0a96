"""Small builders for tests: a config pointing at files in a temp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from journey_analytics.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]


def sample_config_dict() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "journey.yaml").read_text())


def write_config(folder: Path, **overrides: Any) -> Config:
    """journey.yaml of the sample with top-level keys replaced, written to `folder` and loaded."""
    raw = sample_config_dict() | overrides
    path = folder / "journey.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_config(path)


def source_paths(folder: Path, **paths: str) -> list[dict[str, Any]]:
    """The sample's source specs with `path` replaced per source name (sources not named are dropped)."""
    return [s | {"path": paths[s["name"]]} for s in sample_config_dict()["sources"] if s["name"] in paths]
