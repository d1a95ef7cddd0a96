"""Escaping and plain-words formatting shared by the figures and the HTML pages.

Two escapers, because there are two places data strings end up:

* `esc_html` for the page itself (tables, headings, attributes): `html.escape`.
* `esc_label` for anything plotly.js draws (axis ticks, node labels, legend names, hover
  text). plotly.js renders labels as SVG text but understands a subset of HTML tags
  (`<b>`, `<br>`, `<a href>`, `<span style>`); escaping `&`, `<`, `>` makes it show the
  string literally. plotly.js decodes the entities back when it draws, so `&lt;img&gt;`
  appears as `<img>` on screen and never becomes markup.
"""

from __future__ import annotations

import html
import math
from datetime import datetime
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

MINUS = "\u2212"  # a real minus sign reads better than a hyphen in "−3.2 pts"
DASH = "\u2014"  # shown where a number is unknown


def esc_html(value: object) -> str:
    """Escape a data value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


LABEL_CHARS = 120  # a data label (event name, breakdown value) in a table; clip()


def clip(text: object, limit: int = 300) -> str:
    """A data value cut to `limit` characters, the cut marked: an event name of a megabyte was written out
    whole, twice, and made its table millions of pixels wide. The marts keep the whole value."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def esc_label(value: object) -> str:
    """Escape a data value for a plotly.js label so its HTML subset is shown as text."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: float | int | None) -> str:
    """12345 -> '12,345'; unknown -> '—'."""
    return DASH if _missing(value) else f"{round(value):,}"


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """0.4213 -> '42.1%'. Shares and conversions are stored as fractions of 1. A share that is not 0 or 1
    but rounds to it reads 'under 0.1%' or 'over 99.9%': one customer in 2,500 is not '0.0%' (words, not
    `<`, since the text goes into HTML and plotly.js labels unescaped)."""
    if _missing(fraction):
        return DASH
    text, least = f"{fraction * 100:.{digits}f}%", 10.0 ** -digits
    if 0 < fraction and float(text[:-1]) == 0:
        return f"under {least:.{digits}f}%"
    if fraction < 1 and float(text[:-1]) == 100:
        return f"over {100 - least:.{digits}f}%"
    return text


def signed(value: float, text: str) -> str:
    """Prefix an already formatted magnitude with + or a real minus sign."""
    return f"{MINUS if value < 0 else '+'}{text}"


def fmt_nps(nps: float) -> str:
    """A net promoter score, whole: 100 -> '+100', -25 -> '−25', 0 (or -0.4) -> '0'."""
    whole = round(nps)
    return "0" if whole == 0 else signed(whole, f"{abs(whole)}")


def fmt_pts(delta_fraction: float) -> str:
    """Change of a fraction in percentage points: -0.032 -> '−3.2 pts'."""
    pts = delta_fraction * 100
    if round(pts, 1) == 0:
        return "unchanged"
    return signed(pts, f"{abs(pts):.1f} pts")


def fmt_duration(seconds: float | None) -> str:
    """Seconds in the unit an analyst would say: '45 s', '12 min', '5.2 h', '3.4 d'."""
    if _missing(seconds):
        return DASH
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 36 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def fmt_days(days: float) -> str:
    """A configured number of days as written, not rounded: 30 -> '30 days', 0.5 -> '12 h', 0.01 -> '14.4 min'."""
    if days >= 1:  # repr: the shortest text that reads back as the same number, i.e. as written
        return f"{repr(float(days)).removesuffix('.0')} day{'' if days == 1 else 's'}"
    seconds = days * 86400
    unit, size = ("h", 3600) if seconds >= 3600 else ("min", 60) if seconds >= 60 else ("s", 1)
    return f"{float(f'{seconds / size:.9g}')!r} {unit}".replace(".0 ", " ")  # 9 digits: no float noise


def duration_unit(max_seconds: float | None) -> tuple[str, float]:
    """Pick one axis unit for a set of durations: (name, seconds per unit)."""
    if _missing(max_seconds) or max_seconds < 90 * 60:
        return ("minutes", 60.0)
    if max_seconds < 72 * 3600:
        return ("hours", 3600.0)
    return ("days", 86400.0)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC, as everything in the warehouse is."""
    return moment.replace(tzinfo=dt_timezone.utc) if moment.tzinfo is None else moment


def fmt_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """A moment in the report's time zone: '12 Mar 2025, 03:00 CET'."""
    if moment is None:
        return DASH
    local = as_utc(moment).astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".strip()
