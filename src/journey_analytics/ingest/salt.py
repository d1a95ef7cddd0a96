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


def other_salt(con: duckdb.DuckDBPyConnection, config: Config) -> str | None:
    """What is wrong when the warehouse's personal data were hashed with another salt than `config`'s; else None.
    Only loaded data count: a salt recorded by a run that loaded nothing is no one's."""
    try:
        stored = con.execute("select fingerprint from ingest.salt").fetchall()
    except duckdb.CatalogException:  # a warehouse written before the check, opened read-only
        return None
    if not stored or stored[0][0] == fingerprint(config):
        return None
    if not con.execute("select exists (select 1 from ingest.manifest)").fetchall()[0][0]:
        return None
    this = "JOURNEY_HASH_SALT, from the environment" if config.hash_salt != config.privacy.salt else \
        "privacy.salt in journey.yaml"
    return (f"{config.warehouse_path}: its personal data were hashed with another salt than this one ({this}); "
            "the same email would not be found, or become a second identifier. Use the salt the warehouse was loaded "
            "with (is JOURNEY_HASH_SALT set in one environment and not the other?), or, to change the salt, "
            "rebuild from scratch (docs/operations.md)")


def remember_salt(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Record the salt of a run that may load personal data; raise ConfigError when the warehouse's data were
    hashed with another. A warehouse written before this check records the salt of its first run after upgrading."""
    if problem := other_salt(con, config):
        raise ConfigError(problem)
    con.execute("delete from ingest.salt")
    con.execute("insert into ingest.salt values (?)", [fingerprint(config)])
