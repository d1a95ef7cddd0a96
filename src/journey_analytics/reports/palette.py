"""Colours: one colour per stage, the same on every chart, safe for colour-blind readers.

The stage colours are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008) in
config order, yellow last because it is the hardest to see on white. Nodes that are not
stages (`Other`, `(end)`, `unmapped`) are greys so they never compete with a stage (touchpoints named
as path nodes or funnel steps, `source:event_name`, take palette colours by their text);
`converted` is near-black so the goal stands out without relying on hue.
"""

from __future__ import annotations

import zlib

from plotly.colors import sample_colorscale, unlabel_rgb

from journey_analytics.config import is_touchpoint_label

OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
CONVERTED = "#222222"
OTHER = "#8C8C8C"
END = "#C4C4C4"
UNKNOWN = "#A6A6A6"
DROPPED = "#BDBDBD"
TEXT = "#1F2328"
GRID = "#E5E7EB"

_SPECIAL = {"converted": CONVERTED, "Other": OTHER, "other paths": OTHER, "(end)": END}


def stage_colours(stages: list[str]) -> dict[str, str]:
    """Map each configured stage to its colour, cycling if there are more than seven."""
    return {stage: OKABE_ITO[i % len(OKABE_ITO)] for i, stage in enumerate(stages)}


def colour_for(label: str, colours: dict[str, str]) -> str:
    """Colour of a stage or of a special path node; a touchpoint `source:event_name` (a path node or funnel
    step) takes a palette colour picked by its text, so it keeps it on every chart and in every run; other
    labels are grey."""
    if label in colours:
        return colours[label]
    if label in _SPECIAL:
        return _SPECIAL[label]
    return OKABE_ITO[zlib.crc32(label.encode()) % len(OKABE_ITO)] if is_touchpoint_label(label) else UNKNOWN


def rgba(hex_colour: str, alpha: float) -> str:
    """'#E69F00', 0.4 -> 'rgba(230,159,0,0.4)' (Sankey links need transparency)."""
    r, g, b = _rgb(hex_colour)
    return f"rgba({r},{g},{b},{alpha})"


def heat(share: float) -> tuple[str, str]:
    """Background and text colour of a table cell holding a share of 0..1: Cividis (dark blue to
    yellow, readable by colour-blind readers and in greyscale), with black or white text, whichever
    contrasts more: at least 4.58:1 on any background (WCAG AA asks 4.5:1), where the page's own dark
    grey would fall to 4.0:1 on the scale's middle."""
    background = sample_colorscale("Cividis", [min(max(share, 0.0), 1.0)])[0]
    rgb = unlabel_rgb(background)
    return background, max(("#FFFFFF", "#000000"), key=lambda ink: contrast(rgb, _rgb(ink)))


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255 channels), from 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
