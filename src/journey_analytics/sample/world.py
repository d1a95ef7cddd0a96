"""The simulated world: stages and their events, journey templates, channels, names and the
files each source is written to. Plain data, so the simulation reads as rules over it.
"""

from __future__ import annotations

from datetime import UTC, datetime


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
