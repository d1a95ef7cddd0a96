"""People and their journeys: who starts when, how far each stage takes them, and the events of
each episode with their times, channels and identifiers (ground truth included).
"""

from __future__ import annotations

import random

import polars as pl

from journey_analytics.sample.draws import hex12, log_uniform, lookup, pick, with_uniforms
from journey_analytics.sample.world import (
    DOMAINS, EPISODES, FIRST_CHANNEL, FIRST_NAMES, GAP_CLASSES, GATES, HOUR, KIOSK_USERS,
    LAST_NAMES, MIN, RETRY_CHANNEL, RETURN_CHANNEL, SEGMENTS, TEMPLATES, TIE_EVERY, TRUE_STAGE,
)


def simulate_people(rng: random.Random, first: int, n: int, window_s: int) -> pl.DataFrame:
    """One row per person: when they start and how far each stage of their journey will take them."""
    p = pl.DataFrame({"person": pl.int_range(first, first + n, eager=True, dtype=pl.Int64)})
    p = with_uniforms(rng, p, "start c1 p1 retry c2 p2 complete pp regress repurchase complete_r adv "
                               "signup devices segment first last domain kiosk")
    c, lt = pl.col, lambda name, share: pl.col(f"u_{name}") < share
    start_s = (c("u_start") * window_s * 0.9).floor().cast(pl.Int64)
    tie = (c("person") % TIE_EVERY == 0) & start_s.shift(1).is_not_null()
    return p.with_columns(
        start_s=pl.when(tie).then(start_s.shift(1)).otherwise(start_s),
        tie_start=(c("person") % TIE_EVERY).is_in([0, TIE_EVERY - 1]),
        reach_c1=lt("c1", .55),
        segment=pick("u_segment", SEGMENTS),
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
    ep = with_uniforms(rng, pl.concat(parts).sort("person", "ep"), "same gap chan")
    same = pl.col("u_same") < pl.col("p_same")
    log_gap = (pl.col("lo") * ((pl.col("hi") / pl.col("lo")).log() * pl.col("u_gap")).exp()).floor().cast(pl.Int64)
    con1, con2 = [i for i, e in enumerate(EPISODES) if e[1] == "con"][:2]
    return ep.with_columns(
        ep_gap=pl.when(pl.col("ep") == 0).then(pl.col("start_s"))
        .when(same).then(log_uniform("u_gap", 20, 15 * MIN)).otherwise(log_gap),
        ep_new_session=~same,
        ep_channel=pl.when(pl.col("ep") == 0).then(pick("u_chan", FIRST_CHANNEL))
        .when(pl.col("template") == "aw").then(pick("u_chan", RETRY_CHANNEL))
        .otherwise(pick("u_chan", RETURN_CHANNEL)),
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


def simulate_events(rng: random.Random, p: pl.DataFrame, window_s: int, start_s: int) -> pl.DataFrame:
    """Expand episodes into timed touchpoints; cut at the window end; assign devices and the kiosk."""
    c = pl.col
    ev = _episodes(rng, p).join(_template_frame(), on="template", maintain_order="left_right")
    gate_ok = pl.lit(False)
    for g in GATES:
        gate_ok = gate_ok | ((c("gate") == g) & c(g))
    ev = with_uniforms(rng, ev, "keep").filter((c("u_keep") < c("prob")) & (c("gate").is_null() | gate_ok))
    ev = with_uniforms(rng, ev.drop("u_keep", "prob", "gate", *GATES[1:], "template", "start_s"),
                        "cls gap chan dev ms tz mess m1 m2 m3").lazy()
    cls = pl.when(c("gap_class") == "w").then(pl.when(c("u_cls") < .25).then(pl.lit("v")).otherwise(pl.lit("s")))
    gap = pl.when(c("cls") == "t").then(pl.when(c("u_gap") < .35).then(0).otherwise(log_uniform("u_gap", 1, 5)))
    for k, (lo, hi) in GAP_CLASSES.items():
        if k != "t":
            gap = gap.when(c("cls") == k).then(log_uniform("u_gap", lo, hi))
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
        .otherwise(pick("u_chan", RETURN_CHANNEL)),
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


def person_attrs(p: pl.DataFrame) -> pl.DataFrame:
    """Identifiers and raw email spellings per person."""
    c = pl.col
    first = lookup((c("u_first") * len(FIRST_NAMES)).floor(), FIRST_NAMES)
    last = lookup((c("u_last") * len(LAST_NAMES)).floor(), LAST_NAMES)
    domain = lookup((c("u_domain") * len(DOMAINS)).floor(), DOMAINS)
    n = c("person").cast(pl.String)
    cap = pl.concat_str(first.str.to_titlecase(), pl.lit("."), last.str.to_titlecase(), n, pl.lit("@"), domain)
    return p.select(
        "person", "segment",
        person_id=pl.lit("p-") + n, user_id=pl.lit("u-") + n, contact_id=pl.lit("ct-") + n,
        email=pl.concat_str(first, pl.lit("."), last, n, pl.lit("@"), domain), email_cap=cap,
        cookie0=pl.lit("a-") + hex12(c("person") * 2), cookie1=pl.lit("a-") + hex12(c("person") * 2 + 1),
    )
