"""Explain one customer: identifiers, the links that merged them, and the journey.

Every merge is explainable (SEMANTICS.md): for each link, the first event that carried both ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config
from journey_analytics.runs import last_run
from journey_analytics.sources.mapping import pii_sql, text_sql


class NotFound(LookupError):
    """No customer matches what was asked for."""


class UnknownIdType(ValueError):
    """The identifier type is not one the configuration declares."""


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    identifiers: list[dict]
    edges: list[dict]
    journey: list[dict]
    run_id: str | None  # the run that built them (None: no run recorded)
    as_of: datetime | None  # where that run's journeys stop


def find_customer(con: duckdb.DuckDBPyConnection, config: Config, id_type: str, value: str) -> str:
    """The customer holding an identifier; personal identifiers are given raw and hashed here."""
    pii = {t.name: t.pii for t in config.identity.types}
    if id_type not in pii:
        raise UnknownIdType(f"unknown identifier type {id_type!r} (known: {', '.join(pii)})")
    # stored as ingest stores it: personal identifiers hashed by the very same expression, others trimmed
    value_sql = pii_sql("$value", pii[id_type], "$salt") if pii[id_type] else text_sql("$value")
    params = {"value": value, "salt": config.hash_salt} if pii[id_type] else {"value": value}
    stored = con.execute(f"select {value_sql}", params).fetchall()[0][0]
    if stored is None:  # ingest stores no such value either (an email without an @, a blank)
        raise NotFound(f"no customer can have that {id_type}: it is not one ingest would store; check it")
    found = sqlfiles.query(con, "queries/identifier_customer", id_type=id_type, id_value=stored).fetchall()
    if found:
        return found[0][0]
    what = f"that {id_type}" if pii[id_type] else f"{id_type} {value!r}"  # a raw email is not echoed
    later, first, undeclared = sqlfiles.query(con, "queries/identifier_events", id_type=id_type, id_value=stored,
                                              sources=list(config.source_names)).fetchall()[0]
    if undeclared and not later:
        raise NotFound(f"no customer has {what}: only {undeclared} event(s) of a source journey.yaml no longer "
                       "declares carry it, and those are left out of the journeys (declare the source again to "
                       "count them)")
    run_id, as_of = last_run(con)
    if later and as_of is not None and first > as_of:  # loaded, but every event carrying it is after the as-of
        raise NotFound(f"no customer has {what} in the journeys as of {as_of:%Y-%m-%d %H:%M:%S} UTC (the last run's "
                       f"as-of): its {later} event(s) come after that, from {first:%Y-%m-%d %H:%M:%S} UTC; "
                       "a run as of a later time (or as of now) includes them")
    if later:  # loaded since the customers were last built (a run whose source failed builds none)
        built = f"run {run_id} built" if run_id else "the customers were last built"
        raise NotFound(f"no customer has {what} yet: its {later} event(s) were loaded after {built}"
                       f"{' the customers' if run_id else ''}; the next run that completes includes them")
    if pii[id_type]:
        raise NotFound(f"no customer has that {id_type} (stored as its salted hash {stored[:12]}...; "
                       "check the spelling and that privacy.salt is the one the data was loaded with)")
    raise NotFound(f"no customer has {what}")


def explain(con: duckdb.DuckDBPyConnection, customer_id: str, sources: list[str]) -> Explanation:
    """The customer as the last run built it: identifiers (with their events of the declared `sources` up to and
    after its as-of), the links that merged them, and the journey (which stops at that as-of)."""
    run_id, as_of = last_run(con)
    identifiers = sqlfiles.records(con, "queries/explain_identifiers", customer_id=customer_id, as_of=as_of,
                                   sources=sources)
    if not identifiers:
        raise NotFound(f"no customer {customer_id!r}; look one up by identifier instead (e.g. --email)")
    return Explanation(
        customer_id,
        identifiers,
        sqlfiles.records(con, "queries/explain_edges", customer_id=customer_id),
        sqlfiles.records(con, "queries/explain_journey", customer_id=customer_id),
        run_id,
        as_of,
    )
