"""The warehouse's context managers keep the error that says what happened."""

from __future__ import annotations

import pytest

from journey_analytics.warehouse import connect, memory_cap, transaction


class _Said(Exception):
    pass


def test_a_transaction_whose_database_became_unusable_raises_its_own_error(tmp_path):
    """After a checkpoint failed for space DuckDB refuses the database: the rollback's error hid the first one."""
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(_Said):
        with transaction(con):
            con.close()  # as unusable as an invalidated database: every statement fails
            raise _Said("No space left on device")


def test_a_memory_cap_on_an_unusable_database_raises_the_blocks_error(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(_Said):
        with memory_cap(con, "256MB", None):
            con.close()
            raise _Said("No space left on device")
    con = connect(tmp_path / "w.duckdb", memory_limit="2GB")
    with memory_cap(con, "256MB", "2GB"):  # and in the ordinary case the limit comes back
        assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] in ("244.1 MiB", "256.0 MB")
    assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] in ("1.8 GiB", "2.0 GB")
    con.close()
