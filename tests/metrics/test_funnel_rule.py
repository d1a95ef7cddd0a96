"""The funnel rule itself, in pure Python (fast, many examples).

The SQL uses a set-based form of the one-pass "latest start" rule: every attempt advances on its
own (events are not consumed) and the deepest, latest-started attempt is chosen. docs/metrics.md
proves that this chooses the same attempt with the same step events as the one-pass rule, under
either reading of "the most recently started attempt that has reached step k-1". These tests
check that claim directly on adversarial sequences.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import reference_metrics as ref

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
WINDOW_US = 4 * 3_600 * 1_000_000  # 4 h on a 1-hour grid: events often sit exactly on window ends


@st.composite
def event_lists(draw):
    n_steps = draw(st.integers(2, 5))
    # Step 1 is over-weighted so attempts compete; None = unmapped.
    steps = st.one_of(st.just(1), st.integers(1, n_steps), st.none())
    n = draw(st.integers(0, 30))
    hours = sorted(draw(st.lists(st.integers(0, 24), min_size=n, max_size=n)))
    return [
        ref.Touchpoint("c", seq, BASE + dt.timedelta(hours=h), "x", draw(steps))
        for seq, h in enumerate(hours, start=1)
    ]


def _outcome(attempt: ref.Attempt | None):
    if attempt is None:
        return None
    return attempt.start.event_seq, [e.event_seq for e in attempt.reached]


@settings(max_examples=3000, deadline=None)
@given(event_lists())
def test_set_based_form_equals_the_one_pass_rule(events) -> None:
    one_pass = _outcome(ref.funnel_one_pass(events, WINDOW_US))
    assert _outcome(ref.funnel_greedy_per_attempt(events, WINDOW_US)) == one_pass
    assert _outcome(ref.funnel_one_pass(events, WINDOW_US, at_least=True)) == one_pass


def test_latest_start_hand_case() -> None:
    """A at 00:00 and B at 01:00; consideration at 02:00 advances B (the latest at step 1);
    a second consideration at 03:00 advances A under one reading and nothing under the other;
    either way B is chosen (tie at step 2, latest start)."""
    at = lambda h: BASE + dt.timedelta(hours=h)  # noqa: E731
    events = [ref.Touchpoint("c", 1, at(0), "awareness", 1), ref.Touchpoint("c", 2, at(1), "awareness", 1),
              ref.Touchpoint("c", 3, at(2), "consideration", 2), ref.Touchpoint("c", 4, at(3), "consideration", 2)]
    for chosen in (ref.funnel_one_pass(events, WINDOW_US), ref.funnel_one_pass(events, WINDOW_US, at_least=True),
                   ref.funnel_greedy_per_attempt(events, WINDOW_US)):
        assert _outcome(chosen) == (2, [2, 3])
