"""Identity stitching on a graph built to be hard: long chains, at scale.

    uv run python benchmarks/identity_chains.py [--events 1e7] [--identifiers 2e6] [--hops 20]

Writes `core.events` / `core.event_identifiers` straight into a scratch warehouse with SQL:
identifiers form chains of `hops` links (cookie — login — cookie — login ...), every link carried
by one event, and the remaining events each carry one identifier of a chain. Then runs
`identity.stitch` and prints the time, the rounds and the peak RSS, and checks the answer: one
customer per chain.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from journey_analytics.config import load_config
from journey_analytics.identity import stitch
from journey_analytics.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2027, 1, 1, tzinfo=timezone.utc)

# chain c has identifiers n = 0..hops: even n are anonymous_id, odd n are user_id; event (c, n) links n and n+1.
EVENTS_SQL = """
insert into core.events
select 'e' || i, 'web', 'clickstream', 1, 'page_view',
       timestamptz '2026-01-01 00:00:00+00' + to_seconds(i), null, '{}'::json, 0, 'bench', now()
from range($events) as t(i)
"""
IDENTIFIERS_SQL = """
insert into core.event_identifiers
with events as (
    select i, i // $links_per_chain as chain, i % $links_per_chain as link, i < $chains * $links_per_chain as is_link
    from range($events) as t(i)
),
ids as (
    -- a linking event carries identifiers `link` and `link + 1` of its chain; any other event one identifier
    select i, chain, link as n from events where is_link
    union all
    select i, chain, link + 1 from events where is_link
    union all
    select i, hash(i) % $chains, hash(i * 7) % ($links_per_chain + 1) from events where not is_link
)
select 'web', 'e' || i, case when n % 2 = 0 then 'anonymous_id' else 'user_id' end, 'c' || chain || '-' || n,
       timestamptz '2026-01-01 00:00:00+00' + to_seconds(i)
from ids
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=float, default=1e7)
    parser.add_argument("--identifiers", type=float, default=2e6)
    parser.add_argument("--hops", type=int, default=20)
    args = parser.parse_args()
    events, hops = int(args.events), args.hops
    chains = int(args.identifiers) // (hops + 1)
    config = load_config(ROOT / "journey.yaml")
    with tempfile.TemporaryDirectory() as folder:
        con = connect(Path(folder) / "chains.duckdb")
        params = {"events": events, "chains": chains, "links_per_chain": hops}
        con.execute(EVENTS_SQL, {"events": events})
        con.execute(IDENTIFIERS_SQL, params)
        start = time.perf_counter()
        result = stitch(con, config, as_of=AS_OF)
        seconds = time.perf_counter() - start
        per_chain = con.execute("select count(distinct customer_id) from core.identity_map").fetchall()[0][0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'events':>12}{'identifiers':>13}{'hops':>6}{'customers':>11}{'rounds':>8}{'seconds':>9}{'peak RSS MB':>13}")
    print(f"{events:>12,}{result.identifiers:>13,}{hops:>6}{result.customers:>11,}{result.rounds:>8}"
          f"{seconds:>9.2f}{rss:>13,.0f}")
    if per_chain != chains:
        raise SystemExit(f"wrong answer: {per_chain:,} customers for {chains:,} chains")


if __name__ == "__main__":
    main()
