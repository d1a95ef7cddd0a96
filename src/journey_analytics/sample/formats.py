"""The three raw formats a company would export: web JSON lines (UTC / offsets), CRM CSV (naive
Europe/Berlin times, messy emails) and service CSV (New York offsets, surveys), plus the truth tables.
"""

from __future__ import annotations

import polars as pl

from journey_analytics.sample.draws import KIOSK_COOKIE, lookup, pick
from journey_analytics.sample.world import (
    AMOUNT_RANGE, BLOG_SLUGS, CHANNELS, LEAD_SOURCES, SOURCES, TOPICS, URL_PATHS,
)


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
              .when(c("event_name") == "blog_view").then(lookup((c("u_m2") * len(BLOG_SLUGS)).floor(), BLOG_SLUGS))
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
        lead_source=pl.when(c("event_name") == "lead_created").then(pick("u_m1", LEAD_SOURCES))
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
        topic=lookup((c("u_m1") * len(TOPICS)).floor(), TOPICS),
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


def format_events(ev: pl.DataFrame, attrs: pl.DataFrame, start_ms: int, next_id: dict[str, int],
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
