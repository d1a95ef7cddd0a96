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


def test_a_run_counts_the_unfinished_runs_since_the_last_published_one(tmp_path):
    """A run that ended before publishing (stopped, or a source failed) leaves loaded files that no run's
    numbers counted; the next run to publish counts them as its own, and no later run counts them again."""
    from journey_analytics.runs import unfinished_runs
    from journey_analytics.warehouse import connect

    con = connect(tmp_path / "w.duckdb")
    loads = {"20261101T020000Z-aaaa": (2, 90), "20261102T020000Z-bbbb": (1, 9),  # unfinished, then
             "20261103T020000Z-cccc": (1, 20),  # the run that published them
             "20261104T020000Z-dddd": (3, 27), "20261104T030000Z-eeee": (1, 5)}  # two unfinished runs
    for run_id, (files, loaded) in loads.items():
        for f in range(files):
            con.execute("insert into ingest.manifest (run_id, source, path, content_sha256, rows_read, rows_loaded, "
                        "rows_deduplicated, rows_quarantined, loaded_at) values (?, 'web', ?, ?, ?, ?, 0, 0, now())",
                        [run_id, f"{run_id}-{f}.jsonl", f"{run_id}-{f}", loaded // files, loaded // files])
    con.execute("insert into marts.run_history values ('20261103T020000Z-cccc', now(), now(), 'events', 1)")
    assert unfinished_runs(con, "20261103T020000Z-cccc") == [("20261101T020000Z-aaaa", 2, 90),
                                                             ("20261102T020000Z-bbbb", 1, 9)]
    assert unfinished_runs(con, "20261105T020000Z-ffff") == [("20261104T020000Z-dddd", 3, 27),
                                                             ("20261104T030000Z-eeee", 1, 5)]
    assert unfinished_runs(con, "20261101T020000Z-aaaa") == []
    con.close()
