"""A second, plain-Python implementation of every metric, written from SEMANTICS.md.

It works on per-customer event lists, one loop at a time, with exact integer microseconds and
`fractions.Fraction` wherever a comparison could be spoiled by rounding. The SQL marts must agree
with it (tests/metrics/test_marts.py). It is deliberately literal and slow; do not optimise it.

Conventions shared with docs/metrics.md (the contract both sides implement):
- percentiles are nearest-rank: the value at 1-based rank ceil(q * n) of the sorted values;
- the funnel window is half-open: an event advances an attempt when event time - start < W, and
  an attempt's window is open at as_of when start + W > as_of;
- seconds are microseconds / 1e6.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
US = dt.timedelta(microseconds=1)

HISTOGRAM_BUCKETS = (  # (bucket_index, label, lower_s, upper_s)
    (1, "< 1 min", 0.0, 60.0),
    (2, "1-10 min", 60.0, 600.0),
    (3, "10-60 min", 600.0, 3600.0),
    (4, "1-6 h", 3600.0, 21600.0),
    (5, "6-24 h", 21600.0, 86400.0),
    (6, "1-3 d", 86400.0, 259200.0),
    (7, "3-7 d", 259200.0, 604800.0),
    (8, "7-14 d", 604800.0, 1209600.0),
    (9, "14-30 d", 1209600.0, 2592000.0),
    (10, ">= 30 d", 2592000.0, None),
)


@dataclass(frozen=True)
class Touchpoint:
    customer_id: str
    event_seq: int
    occurred_at: dt.datetime
    stage: str  # 'unmapped' when no stage
    stage_index: int | None
    channel: str | None = None
    source: str = "web"
    source_kind: str = "clickstream"
    event_name: str = "event"


def micros(a: dt.datetime, b: dt.datetime) -> int:
    """Exact microseconds from a to b."""
    return (b - a) // US


def seconds(us: int | None) -> float | None:
    return None if us is None else us / 1e6


def nearest_rank(values: list, pct: int):
    """The value at 1-based rank ceil(pct/100 * n) of the sorted values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(Fraction(pct, 100) * len(ordered))
    return ordered[rank - 1]


def journeys(touchpoints: list[Touchpoint], as_of: dt.datetime) -> dict[str, list[Touchpoint]]:
    """Each customer's touchpoints at or before as_of, in event order."""
    out: dict[str, list[Touchpoint]] = defaultdict(list)
    for t in sorted(touchpoints, key=lambda t: (t.customer_id, t.event_seq)):
        if t.occurred_at <= as_of:
            out[t.customer_id].append(t)
    return dict(out)


# --------------------------------------------------------------------------------------------
# Funnel
# --------------------------------------------------------------------------------------------
@dataclass
class Attempt:
    start: Touchpoint
    reached: list[Touchpoint] = field(default_factory=list)  # reached[k-1] = the step-k event

    @property
    def level(self) -> int:
        return len(self.reached)


def funnel_one_pass(events: list[Touchpoint], window_us: float, *, at_least: bool = False,
                    steps: dict[str, int] | None = None) -> Attempt | None:
    """SEMANTICS.md, literally: one pass over the ordered events.

    A step-1 event opens an attempt. An event of step k > 1 advances the most recently started
    attempt that has reached step k-1 (`at_least=False`: whose deepest step is k-1; `at_least=True`:
    whose deepest step is >= k-1, doing nothing if that one is already past k-1), if the event lies
    within W of the attempt's start and later in event order than its step k-1 event.
    Returns the chosen attempt (deepest; latest-started on ties), None without a step-1 event.
    `steps` maps stage -> step (default: step = stage_index).
    """
    attempts: list[Attempt] = []
    for e in events:
        k = step_of(e, steps)
        if k is None:
            continue
        if k == 1:
            attempts.append(Attempt(start=e, reached=[e]))
            continue
        if at_least:
            candidates = [a for a in attempts if a.level >= k - 1]
        else:
            candidates = [a for a in attempts if a.level == k - 1]
        if not candidates:
            continue
        attempt = candidates[-1]  # attempts are appended in start order
        if attempt.level != k - 1:
            continue
        in_window = micros(attempt.start.occurred_at, e.occurred_at) < window_us
        if in_window and e.event_seq > attempt.reached[k - 2].event_seq:
            attempt.reached.append(e)
    if not attempts:
        return None
    deepest = max(a.level for a in attempts)
    return [a for a in attempts if a.level == deepest][-1]


def step_of(e: Touchpoint, steps: dict[str, int] | None) -> int | None:
    """The funnel step of a touchpoint: the step naming its label 'source:event_name' (mapped or
    not), else the step of its stage; None when neither is a step."""
    if steps is None:
        return e.stage_index
    label = f"{e.source}:{e.event_name}"
    if label in steps:
        return steps[label]
    return steps.get(e.stage) if e.stage_index is not None else None


def funnel_greedy_per_attempt(events: list[Touchpoint], window_us: float) -> Attempt | None:
    """The set-based formulation (what the SQL does), for the equivalence test only: every
    attempt advances on its own, step k = first step-k event after its step k-1 event, within W;
    events are not consumed. Chosen = deepest, latest-started on ties."""
    best: Attempt | None = None
    for i, start in enumerate(events):
        if start.stage_index != 1:
            continue
        attempt = Attempt(start=start, reached=[start])
        for e in events[i + 1 :]:
            if e.stage_index == attempt.level + 1 and micros(start.occurred_at, e.occurred_at) < window_us:
                attempt.reached.append(e)
        if best is None or attempt.level >= best.level:
            best = attempt
    return best


def funnel_customers(journeys_: dict[str, list[Touchpoint]], steps: tuple[str, ...], window_us: float,
                     as_of: dt.datetime, breakdown: str = "channel") -> dict[str, dict]:
    """One row per cohort customer (a step-1 touchpoint at or before as_of)."""
    n_steps = len(steps)
    step_numbers = {stage: k for k, stage in enumerate(steps, start=1)}
    rows = {}
    for customer, events in journeys_.items():
        attempt = funnel_one_pass(events, window_us, steps=step_numbers)
        if attempt is None:
            continue
        start = attempt.start
        latest_start = [e for e in events if step_of(e, step_numbers) == 1][-1]
        value = getattr(start, breakdown)
        rows[customer] = {
            "customer_id": customer,
            "attempt_started_at": start.occurred_at,
            "attempt_start_seq": start.event_seq,
            "deepest_step": attempt.level,
            "breakdown_value": "(none)" if value is None else value,
            # not finished, and an attempt still open: the latest one, which may go deeper than the chosen one
            "is_in_progress": attempt.level < n_steps
            and micros(latest_start.occurred_at, as_of) < window_us,
            "reached_at": [e.occurred_at for e in attempt.reached],
            "reached_seq": [e.event_seq for e in attempt.reached],
        }
    return rows


def _funnel_counts(customers: list[dict], stages: tuple[str, ...]) -> list[dict]:
    rows = []
    reached = [sum(1 for c in customers if c["deepest_step"] >= k) for k in range(1, len(stages) + 1)]
    for k, stage in enumerate(stages, start=1):
        row = {"step": k, "stage": stage, "reached": reached[k - 1]}
        if k == 1:
            row["in_progress"] = row["dropped"] = None
        else:
            waiting = sum(1 for c in customers if c["deepest_step"] == k - 1 and c["is_in_progress"])
            row["in_progress"] = waiting
            row["dropped"] = reached[k - 2] - reached[k - 1] - waiting
        row["conversion_from_start"] = reached[k - 1] / reached[0] if reached[0] else None
        row["conversion_from_previous"] = (reached[k - 1] / reached[k - 2]) if k > 1 and reached[k - 2] else None
        rows.append(row)
    return rows


def step_seconds(customer: dict, k: int) -> float:
    """Seconds from step k-1 to step k of the chosen attempt."""
    return seconds(micros(customer["reached_at"][k - 2], customer["reached_at"][k - 1]))


def funnel_steps_table(customers: dict[str, dict], stages: tuple[str, ...]) -> list[dict]:
    rows = _funnel_counts(list(customers.values()), stages)
    for row in rows:
        k = row["step"]
        times = [step_seconds(c, k) for c in customers.values() if k > 1 and c["deepest_step"] >= k]
        row["median_s_to_convert"] = nearest_rank(times, 50)
        row["p90_s_to_convert"] = nearest_rank(times, 90)
    return rows


def funnel_breakdown(customers: dict[str, dict], stages: tuple[str, ...], top_n: int) -> list[dict]:
    counts = Counter(c["breakdown_value"] for c in customers.values())
    # a value spelled `Other` is ranked last: shown under its name only when nothing is folded into `Other`
    ranked = sorted(counts, key=lambda v: (v == "Other", -counts[v], v))
    kept = set(ranked[:top_n])
    groups: dict[str, list[dict]] = defaultdict(list)
    for c in customers.values():
        groups[c["breakdown_value"] if c["breakdown_value"] in kept else "Other"].append(c)
    rows = []
    for value, members in groups.items():
        for row in _funnel_counts(members, stages):
            del row["conversion_from_previous"]
            rows.append({"breakdown_value": value, **row})
    return rows


def funnel_time_to_convert(customers: dict[str, dict], stages: tuple[str, ...]) -> list[dict]:
    rows = []
    for k, stage in enumerate(stages, start=1):
        if k == 1:
            continue
        times = [step_seconds(c, k) for c in customers.values() if c["deepest_step"] >= k]
        for index, label, lower, upper in HISTOGRAM_BUCKETS:
            n = sum(1 for s in times if s >= lower and (upper is None or s < upper))
            rows.append({"step": k, "stage": stage, "bucket_index": index, "bucket": label,
                         "lower_s": lower, "upper_s": upper, "customers": n})
    return rows


# --------------------------------------------------------------------------------------------
# Stage visits, time in stage, stage to stage
# --------------------------------------------------------------------------------------------
@dataclass
class Visit:
    customer_id: str
    visit_seq: int
    stage: str
    stage_index: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    n_events: int


def stage_visits(journeys_: dict[str, list[Touchpoint]]) -> list[Visit]:
    visits: list[Visit] = []
    for customer, events in journeys_.items():
        mine: list[Visit] = []
        for e in events:
            if e.stage_index is None:
                continue  # unmapped events neither start nor split a visit
            if mine and mine[-1].stage_index == e.stage_index:
                mine[-1].n_events += 1
            else:
                if mine:
                    mine[-1].ended_at = e.occurred_at
                mine.append(Visit(customer, len(mine) + 1, e.stage, e.stage_index, e.occurred_at, None, 1))
        visits.extend(mine)
    return visits


def km_median(durations: list[tuple[int, bool]]) -> int | None:
    """Kaplan-Meier median of (duration, completed) pairs: the smallest completed duration t with
    S(t) <= 1/2, S(t) = prod over event times t_j <= t of (1 - d_j / n_j), exactly."""
    survival = Fraction(1)
    for t in sorted({d for d, completed in durations if completed}):
        at_risk = sum(1 for d, _ in durations if d >= t)
        events = sum(1 for d, completed in durations if completed and d == t)
        survival *= 1 - Fraction(events, at_risk)
        if survival <= Fraction(1, 2):
            return t
    return None


def time_in_stage(visits: list[Visit], stages: tuple[str, ...], as_of: dt.datetime) -> list[dict]:
    rows = []
    for index, stage in enumerate(stages, start=1):
        mine = [v for v in visits if v.stage_index == index]
        completed = [micros(v.started_at, v.ended_at) for v in mine if v.ended_at is not None]
        censored = [micros(v.started_at, as_of) for v in mine if v.ended_at is None]
        rows.append({
            "stage": stage,
            "visits": len(mine),
            "customers": len({v.customer_id for v in mine}),
            "completed": len(completed),
            "open": len(censored),
            "median_s": seconds(nearest_rank(completed, 50)),
            "p75_s": seconds(nearest_rank(completed, 75)),
            "p90_s": seconds(nearest_rank(completed, 90)),
            "km_median_s": seconds(km_median([(d, True) for d in completed] + [(d, False) for d in censored])),
        })
    return rows


def stage_to_stage(visits: list[Visit], stages: tuple[str, ...]) -> list[dict]:
    per_customer: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        per_customer[v.customer_id].append(v)
    rows = []
    for k in range(1, len(stages)):
        times = []
        for mine in per_customer.values():
            mine = sorted(mine, key=lambda v: v.visit_seq)
            first = next((v for v in mine if v.stage_index == k), None)
            if first is None:
                continue
            later = next((v for v in mine if v.stage_index == k + 1 and v.visit_seq > first.visit_seq), None)
            if later is not None:
                times.append(seconds(micros(first.started_at, later.started_at)))
        rows.append({"from_stage": stages[k - 1], "to_stage": stages[k], "customers": len(times),
                     "median_s": nearest_rank(times, 50), "p90_s": nearest_rank(times, 90)})
    return rows


# --------------------------------------------------------------------------------------------
# Paths and Sankey
# --------------------------------------------------------------------------------------------
def paths(journeys_: dict[str, list[Touchpoint]], max_steps: int, goal_stage: str,
          node: str = "stage") -> dict[str, list[str]]:
    """Per customer with a mapped touchpoint: node labels of the mapped touchpoints in event order
    (the stage, or with node='touchpoint' 'source:event_name' with '>' written '›'), consecutive
    repeats collapsed, the first max_steps kept, then 'converted' (goal stage anywhere) or '(end)'."""
    out = {}
    for customer, events in journeys_.items():
        mapped = [e for e in events if e.stage_index is not None]
        nodes: list[str] = []
        for e in mapped:
            label = e.stage if node == "stage" else f"{e.source}:{e.event_name.replace('>', '›')}"
            if not nodes or nodes[-1] != label:
                nodes.append(label)
        if not nodes:
            continue
        terminal = "converted" if any(e.stage == goal_stage for e in mapped) else "(end)"
        out[customer] = nodes[:max_steps] + [terminal]
    return out


def path_frequencies(paths_: dict[str, list[str]], top_n: int) -> list[dict]:
    counts = Counter(" > ".join(p) for p in paths_.values())
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = [{"rank": i, "path": p, "customers": n, "share": n / total}
            for i, (p, n) in enumerate(ranked[:top_n], start=1)]
    rest = sum(n for _, n in ranked[top_n:])
    if rest:
        rows.append({"rank": top_n + 1, "path": "other paths", "customers": rest, "share": rest / total})
    return rows


def sankey(paths_: dict[str, list[str]], nodes_per_step: int) -> tuple[list[dict], list[dict]]:
    """(nodes, links). Node = (step, label); labels outside a step's top nodes_per_step by
    customers (ties: label text) become 'Other'."""
    at_step: dict[int, Counter] = defaultdict(Counter)
    for p in paths_.values():
        for i, label in enumerate(p, start=1):
            at_step[i][label] += 1
    kept = {i: {label for label, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:nodes_per_step]}
            for i, c in at_step.items()}

    def node(i: int, label: str) -> str:
        return label if label in kept[i] else "Other"

    nodes: Counter = Counter()
    ended: Counter = Counter()
    links: Counter = Counter()
    for p in paths_.values():
        for i, label in enumerate(p, start=1):
            nodes[(i, node(i, label))] += 1
            if i == len(p):
                ended[(i, node(i, label))] += 1
            else:
                links[(i, node(i, label), node(i + 1, p[i]))] += 1
    node_rows = [{"step": i, "node_label": lab, "customers": n, "n_ended": ended[(i, lab)]}
                 for (i, lab), n in nodes.items()]
    link_rows = [{"step": i, "source_label": a, "target_label": b, "customers": n}
                 for (i, a, b), n in links.items()]
    return node_rows, link_rows


# --------------------------------------------------------------------------------------------
# Segment and pain points: they read event properties, given as {(customer_id, event_seq): JSON text
# or dict}; a touchpoint not in it has none
# --------------------------------------------------------------------------------------------
def _props(properties: dict, t: Touchpoint) -> dict:
    value = properties.get((t.customer_id, t.event_seq), {})
    return json.loads(value) if isinstance(value, str) else value


def _number(value: object) -> float | None:
    """A property value as a number, or None when it is none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def segments(journeys_: dict[str, list[Touchpoint]], properties: dict, key: str) -> dict[str, str]:
    """Each customer's segment: the latest non-empty value of property `key`, '(none)' without one."""
    out = {}
    for customer, events in journeys_.items():
        values = [v for t in events if (v := _props(properties, t).get(key)) not in (None, "")]
        out[customer] = str(values[-1]) if values else "(none)"
    return out


def pain_points(journeys_: dict[str, list[Touchpoint]], properties: dict, stages: tuple[str, ...],
                as_of: dt.datetime, window_us: float, csat_key: str, nps_key: str, min_customers: int) -> list[dict]:
    """docs/metrics.md, "Pain points": per touchpoint type (source, event_name), its customers, its exits (the
    last non-survey touchpoint of a customer who never reached the last stage, a whole window before as_of)
    and the survey scores of the surveys that rate it (a survey rates the latest earlier non-survey touchpoint)."""
    customers: dict[tuple, set] = defaultdict(set)
    first_stage: dict[tuple, tuple] = {}
    exits: Counter = Counter()
    ratings: dict[tuple, list[tuple]] = defaultdict(list)
    for customer, events in journeys_.items():
        finished = max((t.stage_index or 0 for t in events), default=0) == len(stages)
        last = None  # the latest non-survey touchpoint so far
        for t in events:
            scores = _props(properties, t)
            csat, nps = _number(scores.get(csat_key)), _number(scores.get(nps_key))
            if csat is not None or nps is not None:
                if last is not None:
                    ratings[(last.source, last.event_name)].append((csat, nps))
                continue
            kind = (t.source, t.event_name)
            customers[kind].add(customer)
            rank = (t.stage_index if t.stage_index is not None else math.inf, t.stage)
            first_stage[kind] = min(first_stage.get(kind, rank), rank)
            last = t
        if last is not None and not finished and micros(last.occurred_at, as_of) >= window_us:
            exits[(last.source, last.event_name)] += 1
    rows = []
    for kind, who in customers.items():
        csats = [c for c, _ in ratings[kind] if c is not None]
        npss = [n for _, n in ratings[kind] if n is not None]
        net = sum(n >= 9 for n in npss) - sum(n <= 6 for n in npss)
        rows.append({"source": kind[0], "event_name": kind[1], "stage": first_stage[kind][1],
                     "customers": len(who), "exits": exits[kind], "exit_rate": exits[kind] / len(who),
                     "csat_responses": len(csats), "avg_csat": sum(csats) / len(csats) if csats else None,
                     "nps_responses": len(npss), "nps": 100 * net / len(npss) if npss else None})
    ranked = sorted((r for r in rows if r["customers"] >= min_customers),
                    key=lambda r: (-Fraction(r["exits"], r["customers"]), r["source"], r["event_name"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    for row in rows:
        row.setdefault("rank", None)
    return rows


# --------------------------------------------------------------------------------------------
# Everything at once, keyed like the SQL tables
# --------------------------------------------------------------------------------------------
def all_marts(touchpoints: list[Touchpoint], stages: tuple[str, ...], as_of: dt.datetime, *,
              window_days: int = 30, breakdown: str = "channel", top_n: int = 8, max_steps: int = 6,
              paths_top_n: int = 20, nodes_per_step: int = 8, goal_stage: str = "purchase",
              funnel_steps: tuple[str, ...] = (), path_node: str = "stage") -> dict:
    window_us = float(window_days) * 86_400 * 1e6
    steps = tuple(funnel_steps) or tuple(stages)
    js = journeys(touchpoints, as_of)
    customers = funnel_customers(js, steps, window_us, as_of, breakdown)
    visits = stage_visits(js)
    ps = paths(js, max_steps, goal_stage, path_node)
    nodes, links = sankey(ps, nodes_per_step)
    return {
        "core.stage_visits": [vars(v) for v in visits],
        "marts.funnel_customers": list(customers.values()),
        "marts.funnel_steps": funnel_steps_table(customers, steps),
        "marts.funnel_breakdown": funnel_breakdown(customers, steps, top_n),
        "marts.funnel_time_to_convert": funnel_time_to_convert(customers, steps),
        "marts.time_in_stage": time_in_stage(visits, stages, as_of),
        "marts.stage_to_stage": stage_to_stage(visits, stages),
        "marts.path_frequencies": path_frequencies(ps, paths_top_n),
        "marts.sankey_nodes": nodes,
        "marts.sankey_links": links,
    }
