"""Identity stitching against hand-made graphs and a plain union-find written here."""

from __future__ import annotations

import functools
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from journey_analytics.identity import stitch
from journey_analytics.warehouse import connect
from tests.helpers import insert_events, write_config

T0 = datetime(2026, 8, 1, tzinfo=timezone.utc)
AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)
TYPES = ["contact_id", "user_id", "email", "anonymous_id"]


def components(con) -> set[frozenset[tuple[str, str]]]:
    groups = defaultdict(set)
    for id_type, id_value, customer in con.execute("select * from core.identity_map").fetchall():
        groups[customer].add((id_type, id_value))
    return {frozenset(g) for g in groups.values()}


def reference_components(events, max_links: int) -> set[frozenset[tuple[str, str]]]:
    """Union-find over identifiers seen together, skipping super-nodes (SEMANTICS.md)."""
    nodes = {(t, v) for ids in events for t, v in ids.items()}
    linked = defaultdict(lambda: defaultdict(set))
    for ids in events:
        for a in ids.items():
            for b in ids.items():
                if a != b:
                    linked[a][b[0]].add(b)
    super_nodes = {n for n, by_type in linked.items() if any(len(s) > max_links for s in by_type.values())}
    parent = {n: n for n in nodes}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for ids in events:
        usable = [n for n in ids.items() if n not in super_nodes]
        for a, b in zip(usable, usable[1:]):
            parent[find(a)] = find(b)
    groups = defaultdict(set)
    for n in nodes:
        groups[find(n)].add(n)
    return {frozenset(g) for g in groups.values()}


@functools.cache
def config_with(max_links: int):
    folder = Path(tempfile.mkdtemp(prefix="stitch-config-"))
    return write_config(folder, identity={"max_links": max_links, "types": [{"name": t} for t in TYPES]})


def run_stitch(events, max_links=25):
    con = connect(":memory:")
    insert_events(con, [("web", f"e{i}", T0 + timedelta(minutes=i), "x", ids) for i, ids in enumerate(events)])
    result = stitch(con, config_with(max_links), as_of=AS_OF)
    return con, result


def test_a_cookie_that_logs_in_joins_its_crm_contact_through_the_email():
    events = [
        {"anonymous_id": "a1"},
        {"anonymous_id": "a1", "user_id": "u1", "email": "h1"},
        {"contact_id": "c1", "email": "h1"},
        {"anonymous_id": "a2"},  # another visitor
        {"anonymous_id": "a3", "user_id": "u1"},  # second device of u1
    ]
    con, result = run_stitch(events)
    assert components(con) == {
        frozenset({("anonymous_id", "a1"), ("user_id", "u1"), ("email", "h1"), ("contact_id", "c1"), ("anonymous_id", "a3")}),
        frozenset({("anonymous_id", "a2")}),
    }
    assert (result.identifiers, result.customers, result.conflicts) == (6, 2, 0)


def test_a_twenty_hop_chain_is_one_customer_in_few_rounds():
    chain = [{"anonymous_id": f"a{i}", "user_id": f"u{i}"} for i in range(21)]
    chain += [{"user_id": f"u{i}", "anonymous_id": f"a{i + 1}"} for i in range(20)]
    con, result = run_stitch(chain)
    assert len(components(con)) == 1
    assert result.rounds <= 8  # pointer jumping: logarithmic in the chain length, not one round per hop


def test_a_shared_kiosk_cookie_does_not_merge_its_users():
    events = [{"anonymous_id": "kiosk", "user_id": f"u{i}"} for i in range(4)]
    events.append({"anonymous_id": "kiosk"})
    con, result = run_stitch(events, max_links=3)
    assert result.conflicts == 1
    assert con.execute("select id_type, id_value, linked_type, degree from core.identity_conflicts").fetchall() == [
        ("anonymous_id", "kiosk", "user_id", 4)]
    assert components(con) == {frozenset({("anonymous_id", "kiosk")})} | {
        frozenset({("user_id", f"u{i}")}) for i in range(4)}


def test_customer_id_is_a_hash_of_the_smallest_highest_priority_identifier():
    con, _ = run_stitch([{"anonymous_id": "a1", "user_id": "u2"}, {"user_id": "u2", "contact_id": "c9"},
                                    {"contact_id": "c3", "email": "h"}, {"email": "h", "anonymous_id": "a1"}])
    import hashlib
    expected = "cu_" + hashlib.sha256(b"contact_id:c3").hexdigest()[:16]
    assert {r[0] for r in con.execute("select customer_id from core.identity_map").fetchall()} == {expected}


event = st.dictionaries(st.sampled_from(TYPES), st.integers(0, 12).map(str), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(events=st.lists(event, min_size=1, max_size=30), max_links=st.integers(1, 4))
def test_components_equal_a_plain_union_find(events, max_links):
    con, _ = run_stitch(events, max_links=max_links)
    assert components(con) == reference_components(events, max_links)
    con.close()


@settings(max_examples=30, deadline=None)
@given(events=st.lists(event, min_size=1, max_size=20), unrelated=st.lists(event, min_size=1, max_size=10))
def test_ids_are_stable_when_unrelated_data_is_added(events, unrelated):
    unrelated = [{t: "x" + v for t, v in ids.items()} for ids in unrelated]  # disjoint identifiers
    con, _ = run_stitch(events)
    before = dict(((t, v), c) for t, v, c in con.execute("select * from core.identity_map").fetchall())
    con2, _ = run_stitch(events + unrelated)
    after = dict(((t, v), c) for t, v, c in con2.execute("select * from core.identity_map").fetchall())
    assert {k: after[k] for k in before} == before
    con.close()
    con2.close()


@settings(max_examples=30, deadline=None)
@given(users=st.integers(3, 8), max_links=st.integers(1, 2))
def test_a_super_node_never_merges_two_customers(users, max_links):
    events = [{"anonymous_id": "shared", "user_id": f"u{i}"} for i in range(users)]
    con, _ = run_stitch(events, max_links=max_links)
    per_user = con.execute("select count(distinct customer_id) from core.identity_map where id_type = 'user_id'").fetchall()
    assert per_user == [(users,)]
    con.close()
