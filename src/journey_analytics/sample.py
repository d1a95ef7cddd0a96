"""Deterministic sample data for journey-analytics, with the ground truth to check answers against.

Simulated people walk the journey stages (awareness → consideration → purchase → post_purchase →
advocacy) with drop-off at every stage, loops back, second attempts and second devices. Their
touchpoints are written in the three raw formats `journey.yaml` reads:

- `clickstream/*.jsonl` (web): UTC `Z` timestamps (~10% with an explicit offset), cookies, user ids;
- `crm/*.csv`: naive Europe/Berlin local times, contact ids, messy raw emails;
- `service/*.csv`: America/New_York offsets, requester emails, CSAT/NPS on survey rows;

plus deliberately bad rows (`bad_rows=True`) and `ground_truth/` (persons, good events, bad rows).

Why it is built this way:
- Randomness comes only from `random.Random` (seeded per chunk) turned into Polars columns through
  `randbytes`, so one seed gives byte-identical files on every machine with the locked Polars, and
  the whole simulation is vectorised (hundreds of thousands of events per second, no numpy).
- People are simulated in chunks that are written and dropped, so `generate_stream` can write 1e8
  events with the memory of one chunk.

Example::

    >>> from pathlib import Path
    >>> from journey_analytics.sample import generate
    >>> summary = generate(Path("data/sample"))          # doctest: +SKIP
    >>> summary.events                                     # doctest: +SKIP
    {'web': ..., 'crm': ..., 'service': ...}
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

DEFAULT_START = datetime(2026, 7, 1, tzinfo=UTC)
KIOSK_USERS = 30  # > identity.max_links (25), so the identity layer must refuse to link through it
TIE_EVERY = 500  # person n*500 starts at the same instant as person n*500-1 (cross-person ties)
EVENTS_PER_CUSTOMER = 6.5  # first guess for sizing stream chunks; refined from the data as it goes

STAGE_EVENTS = {
    "awareness": ("ad_click", "landing_view", "blog_view", "newsletter_signup"),
    "consideration": ("product_view", "pricing_view", "signup", "webinar_attended",
                      "lead_created", "opportunity_created", "demo_completed"),
    "purchase": ("add_to_cart", "checkout_started", "order_completed", "order_placed"),
    "post_purchase": ("ticket_opened", "chat_started", "survey_response"),
    "advocacy": ("renewal", "referral", "review_posted"),
}
TRUE_STAGE = {name: stage for stage, names in STAGE_EVENTS.items() for name in names}
SOURCES = ("web", "crm", "service")
FILES = {"web": "clickstream/events.jsonl", "crm": "crm/activities.csv", "service": "service/interactions.csv"}
PART_FILES = {"web": "clickstream/part-{:05d}.jsonl", "crm": "crm/part-{:05d}.csv",
              "service": "service/part-{:05d}.csv"}
BAD_REASONS = ("unparsable_timestamp", "missing_required_field", "missing_identifier",
               "timestamp_in_future", "deduplicated", "duplicate_event_id")

MIN, HOUR, DAY = 60, 3600, 86400
# Episodes in the order a person can live them: (name, template, active flag, P(same session), gap lo/hi s).
EPISODES = (
    ("aw1", "aw", None, 0.0, 1, 2),  # gap unused: the first episode starts at the person's start offset
    ("con1", "con", "reach_c1", 0.4, HOUR, 12 * DAY),
    ("aw2", "aw", "retry", 0.0, 14 * DAY, 45 * DAY),  # second attempt: a new ad click weeks later
    ("con2", "con", "reach_c2", 0.4, HOUR, 10 * DAY),
    ("pur", "pur", "reach_p", 0.15, 2 * HOUR, 40 * DAY),  # long tail: some buy > 30 days after awareness
    ("pp", "pp", "reach_pp", 0.0, DAY, 25 * DAY),
    ("con_r", "con_r", "regress", 0.0, HOUR, 12 * DAY),  # a ticket sends them back to pricing
    ("pur_r", "pur_r", "repurchase", 0.2, HOUR, 20 * DAY),
    ("adv", "adv", "reach_adv", 0.0, 5 * DAY, 45 * DAY),
)
# Touchpoint templates: (event, source, probability, gate flag, gap class). Items keep their order.
# Gap classes: s = same session, v = later visit, w = s or v, c = CRM follow-up, t = same instant-ish, d = days.
TEMPLATES = {
    "aw": [("$entry", "web", 1.0, None, "w"), ("landing_view", "web", 0.35, None, "s"),
           ("blog_view", "web", 0.25, None, "w"), ("blog_view", "web", 0.1, None, "s"),
           ("newsletter_signup", "web", 0.06, None, "s"), ("landing_view", "web", 0.1, None, "v")],
    "con": [("product_view", "web", 1.0, None, "s"), ("signup", "web", 1.0, "signup_here", "s"),
            ("pricing_view", "web", 0.6, None, "w"), ("lead_created", "crm", 0.85, "signs_up", "c"),
            ("product_view", "web", 0.35, None, "w"), ("webinar_attended", "web", 0.1, None, "v"),
            ("demo_completed", "crm", 0.3, "signs_up", "c"), ("pricing_view", "web", 0.3, None, "w"),
            ("opportunity_created", "crm", 0.3, "signs_up", "c"), ("product_view", "web", 0.15, None, "s")],
    "pur": [("add_to_cart", "web", 1.0, None, "w"), ("add_to_cart", "web", 0.3, None, "s"),
            ("checkout_started", "web", 0.85, None, "s"), ("order_completed", "web", 1.0, "completes", "s"),
            ("order_placed", "crm", 0.92, "completes", "t")],
    "pp": [("ticket_opened", "service", 0.7, "signs_up", "d"), ("chat_started", "service", 0.5, "signs_up", "d"),
           ("survey_response", "service", 0.6, "signs_up", "d"), ("ticket_opened", "service", 0.3, "signs_up", "d"),
           ("chat_started", "service", 0.2, "signs_up", "d"), ("survey_response", "service", 0.2, "signs_up", "d")],
    "con_r": [("pricing_view", "web", 1.0, None, "v"), ("product_view", "web", 0.6, None, "s"),
              ("pricing_view", "web", 0.3, None, "s")],
    "pur_r": [("add_to_cart", "web", 1.0, None, "w"), ("checkout_started", "web", 0.9, None, "s"),
              ("order_completed", "web", 1.0, "completes_r", "s"), ("order_placed", "crm", 0.92, "completes_r", "t")],
    "adv": [("renewal", "crm", 0.55, "signs_up", "c"), ("review_posted", "web", 0.35, None, "v"),
            ("referral", "crm", 0.35, "signs_up", "c")],
}
GATES = ("signs_up", "signup_here", "completes", "completes_r")
GAP_CLASSES = {"s": (5, 240), "v": (35 * MIN, 3 * DAY), "c": (10 * MIN, 4 * DAY), "t": (1, 5),
               "d": (2 * HOUR, 10 * DAY)}
CHANNELS = {  # channel -> (utm_source, utm_medium, referrer)
    "paid_search": ("google", "cpc", "https://www.google.com/"),
    "paid_social": ("linkedin", "social", "https://www.linkedin.com/"),
    "email": ("newsletter", "email", None),
    "organic_search": (None, None, "https://www.google.com/"),
    "organic_bing": (None, None, "https://www.bing.com/"),
    "referral": (None, None, "https://news.example.org/article"),
    "direct": (None, None, None),
}
FIRST_CHANNEL = {"paid_search": .26, "paid_social": .16, "email": .1, "organic_search": .2, "organic_bing": .05,
                 "referral": .11, "direct": .12}
RETRY_CHANNEL = {"paid_search": .5, "paid_social": .35, "email": .15}
RETURN_CHANNEL = {"direct": .35, "email": .2, "organic_search": .22, "paid_search": .1, "referral": .08,
                  "paid_social": .05}
URL_PATHS = {"ad_click": "/lp/summer", "landing_view": "/", "blog_view": "/blog/", "newsletter_signup": "/newsletter",
             "product_view": "/products/p-", "pricing_view": "/pricing", "signup": "/signup",
             "webinar_attended": "/webinars/onboarding", "add_to_cart": "/cart", "checkout_started": "/checkout",
             "order_completed": "/checkout/done", "review_posted": "/reviews/new"}
BLOG_SLUGS = ["journey-maps", "pricing-guide", "case-study", "release-notes", "how-to-start"]
FIRST_NAMES = ["alice", "bob", "carla", "dmitri", "emma", "farid", "greta", "hugo", "ines", "jonas", "kemal", "lea",
               "mateo", "nora", "oskar", "priya", "rosa", "sven", "tara", "vera", "wei", "xenia", "yusuf", "zoe"]
LAST_NAMES = ["smith", "mueller", "garcia", "rossi", "nowak", "kim", "okafor", "jensen", "dubois", "silva",
              "tanaka", "schmidt", "haddad", "larsen", "moreau", "weber", "costa", "singh", "fischer", "brown"]
DOMAINS = ["example.com", "example.org", "mail.example", "corp.example"]
SEGMENTS = {"smb": .6, "mid_market": .3, "enterprise": .1}
AMOUNT_RANGE = {"smb": (80, 1_500), "mid_market": (1_500, 15_000), "enterprise": (15_000, 150_000)}
LEAD_SOURCES = {"webinar": .3, "partner": .2, "outbound": .2, "": .3}
TOPICS = ["billing", "delivery", "onboarding", "bug", "account", "returns"]


@dataclass(frozen=True)
class SampleSummary:
    """What a generation wrote.

    `persons`: people with at least one event; `events`: good events per source; `bad_rows`: extra bad
    rows per expected outcome (quarantine reason or `deduplicated`); `files`: data rows (good + bad,
    header excluded) per written file, keyed by the path relative to the output folder.
    """

    persons: int
    events: dict[str, int]
    bad_rows: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


# --------------------------------------------------------------------------------------------- randomness
def _uniform(rng: random.Random, n: int) -> pl.Series:
    """n floats in [0, 1) from the stdlib Mersenne Twister, as one Polars column (fast, seeded, portable)."""
    buf = pa.py_buffer(rng.randbytes(4 * n))
    return pl.from_arrow(pa.Array.from_buffers(pa.uint32(), n, [None, buf])).cast(pl.Float64) / 2.0**32


def _with_uniforms(rng: random.Random, df: pl.DataFrame, names: str) -> pl.DataFrame:
    return df.with_columns(_uniform(rng, df.height).alias(f"u_{n}") for n in names.split())


def _pick(u: str, weights: dict[str, float]) -> pl.Expr:
    """Categorical draw: the key whose cumulative weight band holds `u`."""
    keys, expr, acc = list(weights), None, 0.0
    for key in keys[:-1]:
        acc += weights[key]
        expr = (pl.when(pl.col(u) < acc) if expr is None else expr.when(pl.col(u) < acc)).then(pl.lit(key))
    return expr.otherwise(pl.lit(keys[-1])) if expr is not None else pl.lit(keys[-1])


def _log_uniform(u: str | pl.Expr, lo: float, hi: float) -> pl.Expr:
    """Gap in whole seconds, log-uniform in [lo, hi): many short gaps, a long tail."""
    u = pl.col(u) if isinstance(u, str) else u
    return (lo * (math.log(hi / lo) * u).exp()).floor().cast(pl.Int64)


def _lookup(idx: pl.Expr, values: list[str]) -> pl.Expr:
    return idx.cast(pl.Int64).replace_strict(list(range(len(values))), values, return_dtype=pl.String)


def _hex12(x: pl.Expr) -> pl.Expr:
    """Bijective scramble of an integer into 12 hex digits (unique cookies that look random)."""
    mask = (1 << 48) - 1
    h = (x.cast(pl.UInt64) * 0x9E3779B97F4A7C15) & mask
    h = (h ^ (h // (1 << 24))) * 0xBF58476D1CE4E5B9 & mask
    digits = [_lookup((h // (16**i)) % 16, list("0123456789abcdef")) for i in reversed(range(12))]
    return pl.concat_str(digits)


# One cookie for 30 people: the image of the largest 48-bit code, which no person-device code reaches.
KIOSK_COOKIE = "a-" + pl.select(_hex12(pl.lit((1 << 48) - 1, pl.UInt64))).item()


# --------------------------------------------------------------------------------------------- simulation
def _people(rng: random.Random, first: int, n: int, window_s: int) -> pl.DataFrame:
    """One row per person: when they start and how far each stage of their journey will take them."""
    p = pl.DataFrame({"person": pl.int_range(first, first + n, eager=True, dtype=pl.Int64)})
    p = _with_uniforms(rng, p, "start c1 p1 retry c2 p2 complete pp regress repurchase complete_r adv "
                               "signup devices segment first last domain kiosk")
    c, lt = pl.col, lambda name, share: pl.col(f"u_{name}") < share
    start_s = (c("u_start") * window_s * 0.9).floor().cast(pl.Int64)
    tie = (c("person") % TIE_EVERY == 0) & start_s.shift(1).is_not_null()
    return p.with_columns(
        start_s=pl.when(tie).then(start_s.shift(1)).otherwise(start_s),
        tie_start=(c("person") % TIE_EVERY).is_in([0, TIE_EVERY - 1]),
        reach_c1=lt("c1", .55),
        segment=_pick("u_segment", SEGMENTS),
    ).with_columns(purchased1=c("reach_c1") & lt("p1", .45)).with_columns(
        retry=~c("purchased1") & lt("retry", .22)
    ).with_columns(reach_c2=c("retry") & lt("c2", .5)).with_columns(
        reach_p=c("purchased1") | (c("reach_c2") & lt("p2", .4))
    ).with_columns(completes=c("reach_p") & lt("complete", .8)).with_columns(
        reach_pp=c("completes") & lt("pp", .9),
        reach_adv=c("completes") & lt("adv", .6),
        signs_up=c("reach_p") | ((c("reach_c1") | c("reach_c2")) & lt("signup", .45)),
    ).with_columns(regress=c("reach_pp") & lt("regress", .3), two_devices=c("signs_up") & lt("devices", .2)
    ).with_columns(repurchase=c("regress") & lt("repurchase", .5)
    ).with_columns(completes_r=c("repurchase") & lt("complete_r", .7))


def _episodes(rng: random.Random, p: pl.DataFrame) -> pl.DataFrame:
    """One row per stage episode a person lives, with the gap since the previous one and its channel."""
    keep = ["person", "start_s", "tie_start", "reach_c1", "signs_up", "completes", "completes_r", "two_devices",
            "u_kiosk"]
    parts = []
    for order, (_, template, active, p_same, lo, hi) in enumerate(EPISODES):
        sel = p.filter(pl.col(active)) if active else p
        parts.append(sel.select(*keep, ep=pl.lit(order), template=pl.lit(template), p_same=pl.lit(p_same),
                                lo=pl.lit(lo), hi=pl.lit(hi)))
    ep = _with_uniforms(rng, pl.concat(parts).sort("person", "ep"), "same gap chan")
    same = pl.col("u_same") < pl.col("p_same")
    log_gap = (pl.col("lo") * ((pl.col("hi") / pl.col("lo")).log() * pl.col("u_gap")).exp()).floor().cast(pl.Int64)
    con1, con2 = [i for i, e in enumerate(EPISODES) if e[1] == "con"][:2]
    return ep.with_columns(
        ep_gap=pl.when(pl.col("ep") == 0).then(pl.col("start_s"))
        .when(same).then(_log_uniform("u_gap", 20, 15 * MIN)).otherwise(log_gap),
        ep_new_session=~same,
        ep_channel=pl.when(pl.col("ep") == 0).then(_pick("u_chan", FIRST_CHANNEL))
        .when(pl.col("template") == "aw").then(_pick("u_chan", RETRY_CHANNEL))
        .otherwise(_pick("u_chan", RETURN_CHANNEL)),
        signup_here=pl.col("signs_up") & ((pl.col("ep") == con1) | ((pl.col("ep") == con2) & ~pl.col("reach_c1"))),
    ).drop("p_same", "lo", "hi", "u_same", "u_gap", "u_chan")


def _template_frame() -> pl.DataFrame:
    rows = [(t, i, *item) for t, items in TEMPLATES.items() for i, item in enumerate(items)]
    return pl.DataFrame(rows, schema=["template", "item", "event_name", "source", "prob", "gate", "gap_class"],
                        orient="row")


def _per_person_cumsum(x: pl.Expr) -> pl.Expr:
    """Running sum of `x` within each person, for rows sorted by person (no group-by needed)."""
    total = x.cum_sum()
    first = pl.col("person") != pl.col("person").shift(1, fill_value=-1)
    return total - pl.when(first).then(total - x).forward_fill()


def _events(rng: random.Random, p: pl.DataFrame, window_s: int, start_s: int) -> pl.DataFrame:
    """Expand episodes into timed touchpoints; cut at the window end; assign devices and the kiosk."""
    c = pl.col
    ev = _episodes(rng, p).join(_template_frame(), on="template", maintain_order="left_right")
    gate_ok = pl.lit(False)
    for g in GATES:
        gate_ok = gate_ok | ((c("gate") == g) & c(g))
    ev = _with_uniforms(rng, ev, "keep").filter((c("u_keep") < c("prob")) & (c("gate").is_null() | gate_ok))
    ev = _with_uniforms(rng, ev.drop("u_keep", "prob", "gate", *GATES[1:], "template", "start_s"),
                        "cls gap chan dev ms tz mess m1 m2 m3").lazy()
    cls = pl.when(c("gap_class") == "w").then(pl.when(c("u_cls") < .25).then(pl.lit("v")).otherwise(pl.lit("s")))
    gap = pl.when(c("cls") == "t").then(pl.when(c("u_gap") < .35).then(0).otherwise(_log_uniform("u_gap", 1, 5)))
    for k, (lo, hi) in GAP_CLASSES.items():
        if k != "t":
            gap = gap.when(c("cls") == k).then(_log_uniform("u_gap", lo, hi))
    new_ep = (c("person") != c("person").shift(1)) | (c("ep") != c("ep").shift(1))
    ev = (ev.with_columns(cls=cls.otherwise(c("gap_class")), first_in_ep=new_ep.fill_null(True))
          .with_columns(gap_s=pl.when(c("first_in_ep")).then(c("ep_gap")).otherwise(gap.otherwise(0)))
          .with_columns(t_s=_per_person_cumsum(c("gap_s"))).filter(c("t_s") < window_s))

    web, signup = c("source") == "web", c("event_name") == "signup"
    signed = _per_person_cumsum(signup.cast(pl.Int64)) > 0  # at or after the signup
    ev = ev.with_columns(
        seq=_per_person_cumsum(pl.repeat(1, pl.len(), dtype=pl.Int64)) - 1,
        session_start=web & ((c("first_in_ep") & c("ep_new_session")) | (~c("first_in_ep") & (c("cls") == "v"))),
        tie_next=(c("gap_s").shift(-1) == 0) & (c("person").shift(-1) == c("person")),
        logged_in=web & signed,
        after_signup=web & signed & ~signup,
    ).with_columns(
        channel=pl.when(~c("session_start")).then(None).when(c("first_in_ep")).then(c("ep_channel"))
        .otherwise(_pick("u_chan", RETURN_CHANNEL)),
    )
    entry = (pl.when(c("channel").is_in(["paid_search", "paid_social"])).then(pl.lit("ad_click"))
             .when(c("channel").is_in(["organic_search", "referral"]) & (c("u_m1") < .6)).then(pl.lit("blog_view"))
             .otherwise(pl.lit("landing_view")))
    ev = ev.with_columns(
        event_name=pl.when(c("event_name") == "$entry").then(entry).otherwise(c("event_name")),
        device=pl.when(c("after_signup") & c("two_devices") & (c("u_dev") < .45)).then(1).otherwise(0),
        ms=pl.when(web & ~c("tie_next") & ~(c("tie_start") & (c("seq") == 0))).then((c("u_ms") * 1000).floor())
        .otherwise(0).cast(pl.Int64),
        first_after_signup=c("after_signup") & (_per_person_cumsum(c("after_signup").cast(pl.Int64)) == 1),
    ).collect()
    # The kiosk: the first logged-in web event (after signup) of 30 people happens on one shared device.
    kiosk = ev.filter(c("first_after_signup")).sort("u_kiosk", "person").head(KIOSK_USERS)
    if kiosk.height == KIOSK_USERS:
        ev = ev.join(kiosk.select("person", "seq", kiosk=True), on=["person", "seq"], how="left",
                     maintain_order="left").with_columns(device=pl.when(c("kiosk")).then(2).otherwise(c("device")))
    # Naive Berlin times are ambiguous in the hour the clocks go back: move such CRM rows 2 h later.
    at = pl.from_epoch(c("t_s") + start_s, "s").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin")
    ambiguous = at.dt.replace_time_zone(None).dt.replace_time_zone("Europe/Berlin", ambiguous="null").is_null()
    crm = c("source") == "crm"
    return ev.lazy().with_columns(t_s=pl.when(crm & ambiguous).then(c("t_s") + 2 * HOUR).otherwise(c("t_s"))).filter(
        c("t_s") < window_s).select(
        "person", "seq", "source", "event_name", "logged_in", "device", "channel", "u_tz", "u_mess", "u_m1", "u_m2",
        "u_m3", t_ms=c("t_s") * 1000 + c("ms"), true_stage=c("event_name").replace_strict(TRUE_STAGE)).collect()


def _person_attrs(p: pl.DataFrame) -> pl.DataFrame:
    """Identifiers and raw email spellings per person."""
    c = pl.col
    first = _lookup((c("u_first") * len(FIRST_NAMES)).floor(), FIRST_NAMES)
    last = _lookup((c("u_last") * len(LAST_NAMES)).floor(), LAST_NAMES)
    domain = _lookup((c("u_domain") * len(DOMAINS)).floor(), DOMAINS)
    n = c("person").cast(pl.String)
    cap = pl.concat_str(first.str.to_titlecase(), pl.lit("."), last.str.to_titlecase(), n, pl.lit("@"), domain)
    return p.select(
        "person", "segment",
        person_id=pl.lit("p-") + n, user_id=pl.lit("u-") + n, contact_id=pl.lit("ct-") + n,
        email=pl.concat_str(first, pl.lit("."), last, n, pl.lit("@"), domain), email_cap=cap,
        cookie0=pl.lit("a-") + _hex12(c("person") * 2), cookie1=pl.lit("a-") + _hex12(c("person") * 2 + 1),
    )


# --------------------------------------------------------------------------------------------- formatting
def _web_rows(w: pl.DataFrame) -> pl.DataFrame:
    """Clickstream rows: UTC `Z` stamps, ~10% with an explicit offset (formatted only where needed)."""
    c, at = pl.col, pl.col("occurred_at")
    ts = w.select(at.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")).to_series()
    fmt = "%Y-%m-%dT%H:%M:%S%.3f%:z"
    local = w.with_row_index("i").filter(c("u_tz") < .1).select(
        "i", ts=pl.when(c("u_tz") < .06).then(at.dt.convert_time_zone("Europe/Berlin").dt.strftime(fmt))
        .when(c("u_tz") < .09).then(at.dt.convert_time_zone("America/New_York").dt.strftime(fmt))
        .otherwise(at.dt.convert_time_zone("Asia/Kolkata").dt.strftime(fmt)))
    utm = {k: c("channel").replace_strict(list(CHANNELS), [v[i] for v in CHANNELS.values()], default=None,
                                          return_dtype=pl.String) for i, k in enumerate(("source", "medium", "ref"))}
    product = (c("u_m2") * 24 + 1).floor().cast(pl.Int64).cast(pl.String)
    suffix = (pl.when(c("event_name") == "product_view").then(product)
              .when(c("event_name") == "blog_view").then(_lookup((c("u_m2") * len(BLOG_SLUGS)).floor(), BLOG_SLUGS))
              .otherwise(pl.lit("")))
    return w.select(
        "event_id",
        timestamp=ts.scatter(local["i"], local["ts"]),
        anonymous_id=pl.when(c("device") == 2).then(pl.lit(KIOSK_COOKIE))
        .when(c("device") == 1).then(c("cookie1")).otherwise(c("cookie0")),
        user_id=pl.when(c("logged_in")).then(c("user_id")),
        email=pl.when(c("event_name") == "signup").then(
            pl.when(c("u_mess") < .3).then(c("email_cap")).otherwise(c("email"))),
        event="event_name",
        url=pl.concat_str(pl.lit("https://shop.example.com"), c("event_name").replace_strict(URL_PATHS), suffix),
        utm_source=utm["source"], utm_medium=utm["medium"], referrer=utm["ref"],
    )


def _crm_rows(crm: pl.DataFrame) -> pl.DataFrame:
    """CRM rows: naive Europe/Berlin local time, raw emails with messy case and whitespace."""
    c = pl.col
    lo, hi = ({k: float(v[i]) for k, v in AMOUNT_RANGE.items()} for i in (0, 1))
    lo_v, hi_v = (c("segment").replace_strict(d, return_dtype=pl.Float64) for d in (lo, hi))
    cents = (lo_v * ((hi_v / lo_v).log() * c("u_m2")).exp() * 100).floor().cast(pl.Int64)
    domain_upper = c("email").str.replace("^.*@", "").str.to_uppercase()
    return crm.select(
        activity_id="event_id",
        occurred_at=c("occurred_at").dt.convert_time_zone("Europe/Berlin").dt.strftime("%Y-%m-%d %H:%M:%S"),
        activity="event_name", contact_id="contact_id",
        email=pl.when(c("u_mess") < .15).then(pl.concat_str(pl.lit("  "), c("email_cap").str.replace("@.*$", "@"),
                                                            domain_upper, pl.lit(" ")))
        .when(c("u_mess") < .3).then(c("email").str.to_uppercase())
        .when(c("u_mess") < .4).then(pl.lit(" ") + c("email")).otherwise(c("email")),
        lead_source=pl.when(c("event_name") == "lead_created").then(_pick("u_m1", LEAD_SOURCES))
        .when(c("event_name").is_in(["demo_completed", "opportunity_created"]) & (c("u_m1") < .1))
        .then(pl.lit("outbound")),
        segment="segment",
        amount=pl.when(c("event_name").is_in(["order_placed", "renewal"])).then(
            pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))),
    ).with_columns(lead_source=pl.when(c("lead_source") != "").then(c("lead_source")))


def _service_rows(svc: pl.DataFrame) -> pl.DataFrame:
    """Service rows: America/New_York offsets; CSAT and NPS (correlated) only on survey responses."""
    c = pl.col
    survey = c("event_name") == "survey_response"
    csat = (c("u_m2") ** 0.6 * 5).floor().cast(pl.Int64).clip(0, 4) + 1
    nps = (csat * 2 + (c("u_m3") * 3).floor().cast(pl.Int64) - 2).clip(0, 10)
    return svc.select(
        interaction_id="event_id",
        created_at=c("occurred_at").dt.convert_time_zone("America/New_York").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),
        interaction="event_name",
        requester_email=pl.when(c("u_mess") < .2).then(c("email").str.to_uppercase())
        .when(c("u_mess") < .3).then(c("email_cap")).otherwise(c("email")),
        topic=_lookup((c("u_m1") * len(TOPICS)).floor(), TOPICS),
        csat=pl.when(survey).then(csat.cast(pl.String)), nps=pl.when(survey).then(nps.cast(pl.String)),
    )


def _truth(rows: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Good events and each person's identifiers (emails normalised, kiosk cookie excluded)."""
    c = pl.col
    events = pl.concat([rows[s].select(source=pl.lit(s), event_id="event_id", person_id="person_id",
                                       event_name="event_name", occurred_at="occurred_at", true_stage="true_stage")
                        for s in SOURCES])
    ev = pl.concat([rows[s] for s in SOURCES], how="diagonal_relaxed")
    ids = pl.concat([
        ev.filter((c("source") == "web") & (c("device") != 2)).select(
            "person", "person_id", id_type=pl.lit("anonymous_id"),
            id_value=pl.when(c("device") == 1).then(c("cookie1")).otherwise(c("cookie0"))),
        ev.filter(c("logged_in")).select("person", "person_id", id_type=pl.lit("user_id"), id_value="user_id"),
        ev.filter((c("event_name") == "signup") | (c("source") != "web")).select(
            "person", "person_id", id_type=pl.lit("email"), id_value="email"),
        ev.filter(c("source") == "crm").select("person", "person_id", id_type=pl.lit("contact_id"),
                                               id_value="contact_id"),
    ]).unique().sort("person", "id_type", "id_value").drop("person")
    return {"truth": events, "persons": ids}


def _format(ev: pl.DataFrame, attrs: pl.DataFrame, start_ms: int, next_id: dict[str, int],
            truth: bool) -> dict[str, pl.DataFrame]:
    """Each source's raw rows (all strings) in time order with fresh event ids; optionally the truth."""
    c = pl.col
    rows = {}
    for source, prefix in (("web", "c-"), ("crm", "act-"), ("service", "svc-")):
        s = ev.filter(c("source") == source).sort("t_ms", maintain_order=True)  # ties: person, then seq
        rows[source] = s.join(attrs, on="person", how="left", maintain_order="left").with_columns(
            event_id=pl.lit(prefix) + pl.int_range(next_id[source], next_id[source] + s.height).cast(pl.String),
            occurred_at=pl.from_epoch(c("t_ms") + start_ms, "ms").dt.replace_time_zone("UTC"))
        next_id[source] += s.height
    out = {"web": _web_rows(rows["web"]), "crm": _crm_rows(rows["crm"]), "service": _service_rows(rows["service"]),
           "n_persons": ev["person"].n_unique()}
    return out | (_truth(rows) if truth else {})


# --------------------------------------------------------------------------------------------- bad rows
@dataclass(frozen=True)
class _RowSpec:
    id_col: str
    ts_col: str
    name_col: str
    identifiers: tuple[str, ...]
    prefix: str
    garbage: tuple[str, ...]
    names: tuple[str, ...]
    header: bool


ROW_SPECS = {
    "web": _RowSpec("event_id", "timestamp", "event", ("anonymous_id", "user_id", "email"), "c-",
                    ("31/02/2026 25:61", "yesterday", "2026-13-45T99:99:99Z", "not a date"), tuple(URL_PATHS), False),
    "crm": _RowSpec("activity_id", "occurred_at", "activity", ("contact_id", "email"), "act-",
                    ("31/02/2026 25:61", "yesterday", "2026-02-30 10:00:00", "n/a"),
                    ("lead_created", "opportunity_created", "demo_completed", "order_placed", "renewal", "referral"),
                    True),
    "service": _RowSpec("interaction_id", "created_at", "interaction", ("requester_email",), "svc-",
                        ("31/02/2026 25:61", "yesterday", "2026-08-03T25:61:00-04:00", "soon"),
                        STAGE_EVENTS["post_purchase"], True),
}


def _spoil(rng: random.Random, row: dict, reason: str, spec: _RowSpec, new_id: str) -> dict:
    """Turn a copy of a good row into a bad row of the given kind (exactly one defect)."""
    if reason == "deduplicated":
        return row
    if reason == "duplicate_event_id":
        return row | {spec.name_col: rng.choice([n for n in spec.names if n != row[spec.name_col]])}
    row = row | {spec.id_col: new_id}
    if reason == "unparsable_timestamp":
        row[spec.ts_col] = rng.choice(spec.garbage)
    elif reason == "missing_required_field":
        row[rng.choice([spec.ts_col, spec.name_col])] = rng.choice([None, ""])
    elif reason == "missing_identifier":
        row.update(dict.fromkeys(spec.identifiers))
    elif reason == "timestamp_in_future":
        row[spec.ts_col] = ("2099" + row[spec.ts_col][4:]).replace("2099-02-29", "2099-02-28")
    return row


def _add_bad_rows(rng: random.Random, df: pl.DataFrame, source: str,
                  next_id: dict[str, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Insert 10-20 bad rows per reason at random places (copies always after their original).

    Returns the rows in file order and one row per bad row: its physical line, reason and event id.
    """
    spec, n = ROW_SPECS[source], df.height
    per_reason = {r: min(rng.randint(10, 20), n // 12) for r in BAD_REASONS}
    origins = iter(rng.sample(range(n), sum(per_reason.values())))
    rows, anchors, reasons = [], [], []
    for reason, k in per_reason.items():
        copy = reason in ("deduplicated", "duplicate_event_id")  # keeps the original's event id
        for _ in range(k):
            i = next(origins)
            rows.append(_spoil(rng, df.row(i, named=True), reason, spec, f"{spec.prefix}{next_id[source]}"))
            next_id[source] += not copy
            anchors.append(rng.randint(i, n - 1) if copy else rng.randrange(n))  # a copy follows its original
            reasons.append(reason)
    bad = pl.DataFrame(rows, schema=df.schema, orient="row").with_columns(
        anchor=pl.Series(anchors, dtype=pl.Int64), sub=pl.int_range(1, len(rows) + 1, dtype=pl.Int64),
        expected=pl.Series(reasons, dtype=pl.String))
    good = df.with_columns(anchor=pl.int_range(n, dtype=pl.Int64), sub=pl.lit(0, pl.Int64),
                           expected=pl.lit(None, pl.String))
    merged = pl.concat([good, bad]).sort("anchor", "sub").with_row_index("line", offset=1 + spec.header)
    info = merged.filter(pl.col("sub") > 0).select(
        pl.col("line").cast(pl.Int64), "expected", event_id=pl.col(spec.id_col))
    return merged.drop("line", "anchor", "sub", "expected"), info


# --------------------------------------------------------------------------------------------- writing
def _chunk(seed: int, index: int, first: int, n: int, start: datetime, days: int, bad_rows: bool,
           next_id: dict[str, int], truth: bool) -> dict:
    """Simulate persons first..first+n-1 with their own random stream (chunks are independent)."""
    rng = random.Random(seed * 1_000_003 + index)
    people, start_s = _people(rng, first, n, days * DAY), int(start.timestamp())
    out = _format(_events(rng, people, days * DAY, start_s), _person_attrs(people), start_s * 1000, next_id, truth)
    out["n_good"] = {source: out[source].height for source in SOURCES}
    for source in SOURCES:
        bad = pl.DataFrame(schema={"line": pl.Int64, "expected": pl.String, "event_id": pl.String})
        if bad_rows and out[source].height:
            out[source], bad = _add_bad_rows(rng, out[source], source, next_id)
        out[f"bad_{source}"] = bad
    return out


def _write_rows(df: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        df.write_ndjson(path)
    else:
        df.write_csv(path)


def _write_chunk(out_dir: Path, chunk: dict[str, pl.DataFrame], names: dict[str, str],
                 files: dict[str, int]) -> pl.DataFrame:
    """Write the three source files of one chunk; return its bad-row list with source and file."""
    bad = []
    for source in SOURCES:
        _write_rows(chunk[source], out_dir / names[source])
        files[names[source]] = chunk[source].height
        bad.append(chunk[f"bad_{source}"].select(source=pl.lit(source), file=pl.lit(names[source]),
                                                 line="line", expected="expected", event_id="event_id"))
    return pl.concat(bad)


def _clear(out_dir: Path) -> None:
    """Remove what an earlier generation wrote, so stale part files never join the glob in journey.yaml."""
    for pattern in ("clickstream/*.jsonl", "crm/*.csv", "service/*.csv"):
        for path in out_dir.glob(pattern):
            path.unlink()
    shutil.rmtree(out_dir / "ground_truth", ignore_errors=True)


GROUND_TRUTH_README = """# Ground truth of the generated sample

Written by `journey_analytics.sample` together with the raw files; the pipeline never reads it.

- `persons{suffix}`: one row per (person_id, id_type, id_value); id_type is anonymous_id, user_id,
  email (trimmed + lowercased, not hashed) or contact_id. The shared kiosk cookie `{kiosk}` belongs
  to nobody: it is seen with {kiosk_users} user ids, more than identity.max_links.
- `events{suffix}`: one row per good event (every loadable row exactly once): source (web|crm|service),
  event_id, person_id, event_name, occurred_at (UTC), true_stage.
- `bad_rows.csv`: source, file (relative to the data folder), line (1-based physical line; CSV header is
  line 1), expected (a quarantine reason, or `deduplicated` for exact copies), event_id. A copy that
  reuses an event id (`deduplicated`, `duplicate_event_id`) always comes after its original in the same
  file: the first occurrence is the good row.
"""


def _write_truth(out_dir: Path, chunk: dict[str, pl.DataFrame], part: str | None) -> None:
    gt = out_dir / "ground_truth"
    for name in ("events", "persons"):
        path = gt / name / f"part-{part}.parquet" if part else gt / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        chunk["truth" if name == "events" else "persons"].write_parquet(path, compression="zstd",
                                                                       compression_level=19)


def _finish_truth(out_dir: Path, bad: list[pl.DataFrame], chunked: bool) -> None:
    gt = out_dir / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    order = {s: i for i, s in enumerate(SOURCES)}
    rows = pl.concat(bad).sort(pl.col("source").replace_strict(order), "file", "line")
    rows.write_csv(gt / "bad_rows.csv")
    (gt / "README.md").write_text(GROUND_TRUTH_README.format(
        suffix="/part-*.parquet" if chunked else ".parquet", kiosk=KIOSK_COOKIE, kiosk_users=KIOSK_USERS))


def _summary(persons: int, events: dict[str, int], bad: list[pl.DataFrame], files: dict[str, int]) -> SampleSummary:
    counts = pl.concat(bad).group_by("expected").len() if bad else pl.DataFrame({"expected": [], "len": []})
    per_reason = dict(zip(counts["expected"], counts["len"], strict=True))
    return SampleSummary(persons, events, {r: per_reason.get(r, 0) for r in BAD_REASONS}, files)


# --------------------------------------------------------------------------------------------- public API
def generate(out_dir: Path, *, customers: int = 2500, seed: int = 7, start: datetime = DEFAULT_START,
             days: int = 120, bad_rows: bool = True) -> SampleSummary:
    """Write the small sample (`events.jsonl`, `activities.csv`, `interactions.csv`) and its ground truth.

    Same arguments give byte-identical files. Events fall in [start, start + days), except the bad
    rows dated 2099.
    """
    out_dir = Path(out_dir)
    _clear(out_dir)
    chunk = _chunk(seed, 0, 1, customers, start, days, bad_rows, dict.fromkeys(SOURCES, 1), truth=True)
    files: dict[str, int] = {}
    bad = _write_chunk(out_dir, chunk, FILES, files)
    _write_truth(out_dir, chunk, None)
    _finish_truth(out_dir, [bad], chunked=False)
    return _summary(chunk["n_persons"], chunk["n_good"], [bad], files)


def generate_stream(out_dir: Path, *, events: int | None = None, customers: int | None = None, seed: int = 7,
                    start: datetime = DEFAULT_START, days: int = 120, chunk_customers: int = 50_000,
                    bad_rows: bool = True, ground_truth: bool = False) -> SampleSummary:
    """Write a large data set as part files, one chunk of `chunk_customers` people at a time.

    Give either `events` (an approximate target of good events: chunks are sized from the rate seen so
    far and generation stops within ~1% of it) or `customers`. Memory is that of one chunk. With
    `ground_truth`, per-chunk parquet parts go to `ground_truth/events/` and `ground_truth/persons/`.
    """
    if (events is None) == (customers is None):
        raise ValueError("give exactly one of events= or customers=")
    out_dir = Path(out_dir)
    _clear(out_dir)
    next_id, files, bad = dict.fromkeys(SOURCES, 1), {}, []
    counts, persons, done, index = dict.fromkeys(SOURCES, 0), 0, 0, 0
    while True:
        total = sum(counts.values())
        if customers is not None:
            n = min(chunk_customers, customers - done)
        else:
            rate = total / done if done else EVENTS_PER_CUSTOMER
            n = 0 if total >= 0.99 * events else min(chunk_customers, math.ceil((events - total) / rate))
        if n <= 0:
            break
        chunk = _chunk(seed, index, done + 1, n, start, days, bad_rows, next_id, truth=ground_truth)
        names = {s: PART_FILES[s].format(index + 1) for s in SOURCES}
        bad.append(_write_chunk(out_dir, chunk, names, files))
        if ground_truth:
            _write_truth(out_dir, chunk, f"{index + 1:05d}")
        counts = {s: counts[s] + chunk["n_good"][s] for s in SOURCES}
        persons += chunk["n_persons"]
        done, index = done + n, index + 1
        del chunk
    if ground_truth:
        _finish_truth(out_dir, bad, chunked=True)
    return _summary(persons, counts, bad, files)


def main(argv: list[str] | None = None) -> None:
    """`python -m journey_analytics.sample OUT_DIR [--customers N] [--seed S] [--events N]`."""
    ap = argparse.ArgumentParser(prog="python -m journey_analytics.sample", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--customers", type=int, help="people to simulate (default 2500 for the small sample)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--events", type=int, help="approximate good events: chunked part files (benchmarks)")
    ap.add_argument("--chunk-customers", type=int, default=50_000)
    ap.add_argument("--ground-truth", action="store_true", help="with --events: also write ground-truth parts")
    ap.add_argument("--no-bad-rows", action="store_true")
    args = ap.parse_args(argv)
    began = time.perf_counter()
    if args.events:
        summary = generate_stream(args.out_dir, events=args.events, seed=args.seed, days=args.days,
                                  chunk_customers=args.chunk_customers, bad_rows=not args.no_bad_rows,
                                  ground_truth=args.ground_truth)
    else:
        summary = generate(args.out_dir, customers=args.customers or 2500, seed=args.seed, days=args.days,
                           bad_rows=not args.no_bad_rows)
    secs = time.perf_counter() - began
    print(f"{summary.persons:,} persons; good events {summary.events} ({summary.total_events:,}); "
          f"bad rows {summary.bad_rows}; {len(summary.files)} files in {args.out_dir}")
    print(f"{secs:.2f} s, {summary.total_events / secs:,.0f} events/s")


if __name__ == "__main__":
    main()
