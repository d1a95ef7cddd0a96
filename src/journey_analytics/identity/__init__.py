"""Layer 2: stitch identifiers seen together on an event into customers.

Customers are connected components of the identifier graph (SEMANTICS.md), found with
set-based label propagation in DuckDB: each round is one query over the whole graph, so a
20-hop chain costs a handful of rounds, not a query per hop per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config


@dataclass(frozen=True)
class IdentityResult:
    identifiers: int
    customers: int
    conflicts: int
    rounds: int


def stitch(con: duckdb.DuckDBPyConnection, config: Config, *, as_of: datetime) -> IdentityResult:
    """Build core.identity_conflicts, core.identity_edges and core.identity_map."""
    id_types = [t.name for t in config.identity.types]
    sources = list(config.source_names)  # a source removed or renamed: its stored events link nobody
    n_nodes = sqlfiles.build(con, "intermediate/identity_nodes", temp=True, as_of=as_of, sources=sources)
    sqlfiles.build(con, "intermediate/identity_event_nodes", temp=True, as_of=as_of, sources=sources)
    sqlfiles.build(con, "intermediate/identity_pairs", temp=True)
    conflicts = sqlfiles.build(con, "core/identity_conflicts", max_links=config.identity.max_links)
    sqlfiles.build(con, "intermediate/identity_links", temp=True)
    sqlfiles.build(con, "core/identity_edges")
    sqlfiles.build(con, "intermediate/identity_labels_prev", temp=True, sql_name="intermediate/identity_labels_seed")
    rounds = 0
    while True:
        rounds += 1
        sqlfiles.build(con, "intermediate/identity_labels", temp=True)
        changed = sqlfiles.query(con, "queries/identity_labels_changed").fetchall()[0][0]
        con.execute("create or replace temp table identity_labels_prev as select * from identity_labels")
        if not changed:
            break
    sqlfiles.build(con, "core/identity_map", id_types=id_types)
    customers = sqlfiles.query(con, "queries/customer_count").fetchall()[0][0]
    for table in ("identity_nodes", "identity_event_nodes", "identity_pairs", "identity_links", "identity_labels",
                  "identity_labels_prev"):
        con.execute(f"drop table if exists {table}")
    return IdentityResult(identifiers=n_nodes, customers=customers, conflicts=conflicts, rounds=rounds)
