"""A run's as-of: never later than the moment the run starts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from journey_analytics.runs import Run, check_as_of

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def test_an_as_of_up_to_now_is_kept_in_utc():
    assert check_as_of(NOW, NOW) == NOW
    two_hours_east = timezone(timedelta(hours=2))
    assert check_as_of(datetime(2026, 11, 29, 13, tzinfo=two_hours_east), NOW) == datetime(2026, 11, 29, 11, tzinfo=timezone.utc)


def test_an_as_of_in_the_future_is_refused_with_both_times():
    with pytest.raises(ValueError, match=r"^as-of 2026-11-29 12:00:01 UTC is in the future \(now is 2026-11-29 12:00:00 UTC\)"):
        check_as_of(NOW + timedelta(seconds=1), NOW)
    with pytest.raises(ValueError, match="is in the future"):
        Run.start(datetime.now(timezone.utc) + timedelta(minutes=5))
    assert Run.start().as_of <= datetime.now(timezone.utc)
