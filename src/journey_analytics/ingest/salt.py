"""The hashing salt a warehouse's personal data were hashed with, remembered as a keyed fingerprint.

A run with another salt (`JOURNEY_HASH_SALT` set for cron and not in a shell, or the reverse) hashed the
same email to a second identifier, splitting customers, and said only that the sources' specs had changed.
"""

from __future__ import annotations

import hmac

import duckdb

from journey_analytics.config import Config, ConfigError


def fingerprint(config: Config) -> str:
    """Names the salt without revealing it: an HMAC keyed by the salt."""
    return hmac.new(config.hash_salt.encode(), b"journey-analytics hashing salt", "sha256").hexdigest()[:32]


def remember_salt(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Record the salt in a warehouse that has none yet; raise ConfigError when the warehouse holds another.

    A warehouse written before this check records the salt of its first run after upgrading."""
    stored = con.execute("select fingerprint from ingest.salt").fetchall()
    if not stored:
        con.execute("insert into ingest.salt values (?)", [fingerprint(config)])
    elif stored[0][0] != fingerprint(config):
        this = ("JOURNEY_HASH_SALT, from the environment" if config.hash_salt != config.privacy.salt
                else "privacy.salt in journey.yaml")
        raise ConfigError(
            f"{config.warehouse_path}: its personal data were hashed with another salt than this run's ({this}); "
            "the same email would become a second identifier. Run with the salt the warehouse was loaded with "
            "(is JOURNEY_HASH_SALT set in one environment and not the other?), or, to change the salt, "
            "rebuild from scratch (docs/operations.md)"
        )
