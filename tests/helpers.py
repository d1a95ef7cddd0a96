"""Small builders for tests: a config pointing at files in a temp folder."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
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


def insert_events(con, events, *, source_priority: dict[str, int] | None = None) -> None:
    """Insert hand-made events straight into core.events / core.event_identifiers.

    `events`: iterable of (source, event_id, occurred_at, event_name, {id_type: id_value}[, properties]).
    """
    priority = source_priority or {}
    for source, event_id, occurred_at, event_name, identifiers, *rest in events:
        properties = rest[0] if rest else "{}"
        con.execute(
            "insert into core.events values (?, ?, ?, ?, ?, ?, null, ?::json, 0, 'test', ?)",
            [event_id, source, {"web": "clickstream"}.get(source, source), priority.get(source, 1), event_name,
             occurred_at, properties, occurred_at],
        )
        for id_type, id_value in identifiers.items():
            con.execute("insert into core.event_identifiers values (?, ?, ?, ?, ?)",
                        [source, event_id, id_type, id_value, occurred_at])


def pii_hash(value: str, kind: str, salt: str) -> str | None:
    """The stored form of a personal identifier, written from docs/sources.md independently of the SQL:
    `sha256(salt + ":" + normalised)` in hex; None when nothing is left after trimming."""
    value = value.strip(" \t\r\n\u00a0")
    try:
        if isinstance(json.loads(value), (list, dict)):  # a JSON array or object, not one identifier
            return None
    except ValueError:
        pass
    if kind == "email":
        if named := re.search(r"<\s*([^<>\s]+)\s*>$", value):  # "Name" <address>
            value = named.group(1)
        local, at, domain = value.partition("@")
        labels = domain.split(".")
        if not (local and at and len(labels) > 1 and all(labels) and not re.search(r"[@\s]", local + domain)):
            return None  # not an address: no identifier
        # lower case character by character (simple case mapping: İ → i, a final Σ → σ)
        normal = "".join(ch.lower()[0] for ch in unicodedata.normalize("NFC", value))
    else:
        digits = re.sub(r"[^0-9]", "", value)
        normal = ("+" if value.startswith("+") else "") + digits if digits else ""
    return hashlib.sha256(f"{salt}:{normal}".encode()).hexdigest() if normal else None
