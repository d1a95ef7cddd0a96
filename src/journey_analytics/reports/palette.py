"""Colours: one colour per stage, the same on every chart, safe for colour-blind readers.

The stage colours are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008) in
config order, yellow last because it is the hardest to see on white. Nodes that are not
stages (`Other`, `(end)`, `unmapped`) are greys so they never compete with a stage;
`converted` is near-black so the goal stands out without relying on hue.
"""

from __future__ import annotations

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
    """Colour of a stage or of a special path node; unknown labels are grey."""
    if label in colours:
        return colours[label]
    return _SPECIAL.get(label, UNKNOWN)


def rgba(hex_colour: str, alpha: float) -> str:
    """'#E69F00', 0.4 -> 'rgba(230,159,0,0.4)' (Sankey links need transparency)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
