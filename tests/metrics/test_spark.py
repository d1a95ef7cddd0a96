"""The metric SQL on a real (local-mode) Apache Spark builds the same tables as DuckDB: the sample's
touchpoints from a real pipeline run, and a hand-computed golden case without segments."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from journey_analytics.metrics import MARTS, build_marts, settings_from
from tests.conftest import SAMPLE_AS_OF
from tests.metrics.support import assert_rows_equal, fetch, write_touchpoints
from tests.metrics.test_marts import GOLDEN, _golden_case

pyspark = pytest.importorskip("pyspark", reason="pyspark is a dev dependency: run `uv sync`")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+; install it with `apt-get install -y openjdk-17-jre-headless` (CI does)",
                allow_module_level=True)

from journey_analytics.metrics import spark as on_spark  # noqa: E402

TABLES = ["marts.stages", "marts.funnel_stages", *(name.replace("/", ".") for name in MARTS)]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    folder = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]").appName("journey-analytics-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={folder}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _utc(value):
    """Spark returns naive UTC datetimes (session zone UTC), DuckDB aware ones: compare as naive UTC."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, list):
        return [_utc(v) for v in value]
    return value


def _assert_same_tables(spark, duck: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        expected = [{k: _utc(v) for k, v in row.items()} for row in fetch(duck, table)]
        actual = [{k: _utc(v) for k, v in row.asDict().items()} for row in spark.table(table).collect()]
        keys = list(expected[0]) if expected else []
        assert_rows_equal(table, actual, expected, keys, tol=1e-9)


def _on_both(spark, tmp_path: Path, touchpoints_from: duckdb.DuckDBPyConnection, settings, as_of):
    parquet = tmp_path / "touchpoints.parquet"
    touchpoints_from.execute("copy (select * from core.touchpoints) to ? (format parquet)", [str(parquet)])
    spark.sql("create database if not exists core")
    spark.read.parquet(str(parquet)).write.mode("overwrite").saveAsTable("core.touchpoints")
    spark_counts = on_spark.build_marts(spark, settings, as_of)
    duck = duckdb.connect()
    duck.execute("create schema core")
    duck.execute("create table core.touchpoints as select * from read_parquet(?)", [str(parquet)])
    assert spark_counts == build_marts(duck, settings, as_of)
    return duck


def test_the_sample_marts_on_spark_equal_duckdbs(spark, project, tmp_path):
    config, con, _ = project
    settings = settings_from(config)
    assert settings.segment_property and settings.csat_property  # segments and surveys are exercised
    duck = _on_both(spark, tmp_path, con, settings, SAMPLE_AS_OF)
    _assert_same_tables(spark, duck)


def test_a_golden_case_without_segments_on_spark_equals_duckdb(spark, tmp_path):
    case, settings, touchpoints, as_of = _golden_case(GOLDEN / "worked_example.json")
    assert settings.segment_property is None  # a NULL parameter reaches Spark too
    source = duckdb.connect()
    write_touchpoints(source, touchpoints)
    duck = _on_both(spark, tmp_path, source, settings, as_of)
    _assert_same_tables(spark, duck)


@pytest.mark.parametrize("golden", ["touchpoint_paths", "funnel_touchpoint_step"])
def test_touchpoint_path_nodes_and_funnel_steps_on_spark_equal_duckdb(spark, tmp_path, golden):
    _, settings, touchpoints, as_of = _golden_case(GOLDEN / f"{golden}.json")
    assert settings.path_node == "touchpoint" or any(":" in step for step in settings.steps)
    source = duckdb.connect()
    write_touchpoints(source, touchpoints)
    duck = _on_both(spark, tmp_path, source, settings, as_of)
    _assert_same_tables(spark, duck)


def test_spark_refuses_a_session_not_in_utc(spark):
    _, settings, _, as_of = _golden_case(GOLDEN / "worked_example.json")
    spark.conf.set("spark.sql.session.timeZone", "Europe/Berlin")
    try:
        with pytest.raises(ValueError, match="set spark.sql.session.timeZone to UTC"):
            on_spark.build_marts(spark, settings, as_of)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
