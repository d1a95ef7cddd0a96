"""Layer 4 on Apache Spark, for touchpoint volumes beyond one machine: the same portable SQL files
(`MARTS`, `AUDITS`), transpiled from DuckDB to Spark SQL by sqlglot, run on a SparkSession.

The caller brings the session and, in its catalog, `core.touchpoints` (the layer-3 contract; e.g.
the DuckDB pipeline's table exported as Parquet, or a cluster job's output). `build_marts` writes
`marts.*` and `core.stage_visits` as tables of that catalog, then runs the audits. Only the portable
files run here: the fast forms in `sql/marts/fast/` are DuckDB-only. Needs the `spark` extra
(`pyspark`, `sqlglot`) and Java 17+. `tests/metrics/test_spark.py` proves that the tables equal DuckDB's.

    >>> from pyspark.sql import SparkSession                                  # doctest: +SKIP
    >>> spark = SparkSession.builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    >>> spark.read.parquet("touchpoints/").write.saveAsTable("core.touchpoints")
    >>> build_marts(spark, settings_from(load_config("journey.yaml")), as_of)
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from journey_analytics import sqlfiles
from journey_analytics.metrics import AUDITS, MARTS, STAGE_TABLES, AuditError, MetricSettings, stage_rows


@cache
def to_spark(name: str) -> str:
    """The Spark SQL of `sql/<name>.sql`; its bound parameters become Spark's named markers (`:as_of`)."""
    import sqlglot

    return sqlglot.transpile(sqlfiles.load(name), read="duckdb", write="spark",
                             unsupported_level=sqlglot.ErrorLevel.RAISE)[0]


def build_marts(spark: Any, settings: MetricSettings, as_of: dt.datetime) -> dict[str, int]:
    """Build `core.stage_visits` and every `marts.*` table in `spark`'s catalog from `core.touchpoints`,
    then audit them; returns the row count per table, as `metrics.build_marts` does.

    The session must run in UTC (`spark.sql.session.timeZone`), as the DuckDB warehouse does."""
    zone = spark.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "+00:00", "Z"):
        raise ValueError(f"metrics on Spark: set spark.sql.session.timeZone to UTC (it is {zone!r})")
    params = settings.params(as_of)
    for schema in ("core", "marts"):
        spark.sql(f"create database if not exists {schema}")
    counts: dict[str, int] = {}
    for table, rows in stage_rows(settings).items():
        spark.createDataFrame(rows, schema=STAGE_TABLES[table]).write.mode("overwrite").saveAsTable(table)
        counts[table] = len(rows)
    for name in MARTS:
        sql, table = to_spark(name), name.replace("/", ".")
        spark.sql(sql, args=sqlfiles.used(sql, params, ":")).write.mode("overwrite").saveAsTable(table)
        counts[table] = spark.table(table).count()
    for audit in AUDITS:
        sql = to_spark(audit)
        rows = spark.sql(sql, args=sqlfiles.used(sql, params, ":")).limit(20).collect()
        if rows:
            raise AuditError(audit, list(rows[0].asDict()), [tuple(r) for r in rows])
    return counts
