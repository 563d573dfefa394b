"""Analytics: one schema from the API to the Glue table, every region's pipeline planned as the
config says, saved queries that parse and name only real columns, no standing charge."""

import datetime as dt
import re

import pytest
import sqlglot
from sqlglot.optimizer.qualify import qualify

from components.analytics import PARTITION_KEYS, AnalyticsArgs, Column, glue_columns
from functions.shared import page_view
from ops import cost
from stack import api_contract
from stack.analytics import PREFIX, QUERIES, TABLE, glue_name, record_schema
from tests.helpers import cached_stack
from tests.stacks.invariants import config_of
from verify.variants import VARIANTS

FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
GLUE_TABLE = "aws:glue/catalogTable:CatalogTable"
WORKGROUP = "aws:athena/workgroup:Workgroup"
NAMED_QUERY = "aws:athena/namedQuery:NamedQuery"
# Joda-Time pattern letters -> strptime, for the ones a timestamp format here may use.
JODA = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S", "SSS": "%f"}


def joda_to_strptime(pattern: str) -> str:
    out, rest = "", pattern
    while rest:
        if rest.startswith("'"):
            literal, rest = rest[1:].split("'", 1)
            out += literal
            continue
        token = next((t for t in sorted(JODA, key=len, reverse=True) if rest.startswith(t)), None)
        if token is None:
            out, rest = out + rest[0], rest[1:]
        else:
            out, rest = out + JODA[token], rest[len(token) :]
    return out


def table_schema(table) -> dict[str, str]:
    columns = {c["name"]: c["type"] for c in table.inputs["storageDescriptor"]["columns"]}
    return {**columns, **{p["name"]: p["type"] for p in table.inputs["partitionKeys"]}}


# --- one schema ---------------------------------------------------------------------------------


def test_the_glue_columns_are_the_record_schema_less_the_region_partition():
    schema = record_schema()
    columns = glue_columns(schema)
    assert [c.name for c in columns] == [n for n in schema["properties"] if n not in PARTITION_KEYS]
    assert {c.name: c.type for c in columns} == {
        "post_id": "string",
        "type": "string",
        "reader": "string",
        "view_id": "string",
        "at": "timestamp",
    }
    # Every field of the record is a column or the partition of the same name: nothing is dropped.
    assert set(schema["properties"]) == {c.name for c in columns} | {"region"}
    assert set(schema["required"]) == {"post_id", "view_id", "region", "at"}


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_every_regions_table_has_exactly_the_generated_columns_and_projects_every_region(stack):
    run = cached_stack(stack)
    cfg = config_of(run)
    tables = run.of_type(GLUE_TABLE)
    assert sorted(t.region for t in tables) == sorted(cfg.regions)
    expected = [{"name": c.name, "type": c.type} for c in glue_columns(record_schema())]
    for table in tables:
        columns = [{"name": c["name"], "type": c["type"]} for c in table.inputs["storageDescriptor"]["columns"]]
        assert columns == expected
        assert [p["name"] for p in table.inputs["partitionKeys"]] == list(PARTITION_KEYS)
        parameters = table.inputs["parameters"]
        assert parameters["projection.region.values"].split(",") == list(cfg.regions)
        assert parameters["projection.enabled"] == "true" and parameters["classification"] == "parquet"
        assert table.inputs["databaseName"] == glue_name(cfg) and table.inputs["name"] == TABLE


def test_a_sample_page_view_record_matches_the_glue_schema():
    schema = record_schema()
    body = {"post_id": "a" * 32, "reader": "b" * 32}
    record = page_view.record(
        body, api_contract.load_schema("PageView"), view_id="req-1", region="eu-west-1", at="2026-11-26T09:15:02.345Z"
    )
    columns = {c.name: c.type for c in glue_columns(schema)}
    python_types = {"string": str, "bigint": int, "double": float, "boolean": bool}
    for name, hive in columns.items():
        value = record[name]
        if hive == "timestamp":
            # What Firehose's Hive JSON SerDe is told the timestamps look like parses the API's.
            parsed = dt.datetime.strptime(value, joda_to_strptime(page_view.AT_JODA_FORMAT))
            assert parsed == dt.datetime(2026, 11, 26, 9, 15, 2, 345000)
        else:
            assert isinstance(value, python_types[hive]), name
    assert record["region"] == "eu-west-1" and record["type"] == "view"  # the default of the request schema


def test_the_timestamp_format_parses_what_the_api_writes():
    from functions.shared.items import now_iso

    dt.datetime.strptime(now_iso(), joda_to_strptime(page_view.AT_JODA_FORMAT))


def test_a_nested_field_is_refused_rather_than_stored_as_text():
    with pytest.raises(ValueError, match="property 'tags' has type 'array'"):
        glue_columns({"properties": {"tags": {"type": "array", "items": {"type": "string"}}}})


# --- the pipeline per region ------------------------------------------------------------------


@pytest.mark.parametrize(
    "run",
    [
        lambda: cached_stack("dr"),
        # Kinesis, a longer buffer and a scan limit: the standing-charges variant (shared run).
        lambda: cached_stack("dr", **VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"][1]),
        # The same run as the three-regions variant of tests/stacks/test_variants.py (shared).
        lambda: cached_stack("dr", **VARIANTS["three-regions-warm-database"][1]),
    ],
    ids=["dr", "kinesis", "three-regions"],
)
def test_each_region_delivers_its_own_views_as_parquet_into_its_own_partition(run):
    run = run()
    cfg = config_of(run)
    streams = {s.region: s for s in run.of_type(FIREHOSE)}
    assert sorted(streams) == sorted(cfg.regions)
    exported = run.outputs["analytics"]
    for region, stream in streams.items():
        s3 = stream.inputs["extendedS3Configuration"]
        assert stream.inputs["destination"] == "extended_s3"
        assert s3["prefix"] == f"{PREFIX}region={region}/dt=!{{timestamp:yyyy-MM-dd}}/"
        assert "!{firehose:error-output-type}" in s3["errorOutputPrefix"]
        assert s3["bufferingInterval"] == cfg.analytics_buffer_seconds and s3["bufferingSize"] >= 64
        conversion = s3["dataFormatConversionConfiguration"]
        assert conversion["enabled"] is True
        assert conversion["outputFormatConfiguration"]["serializer"]["parquetSerDe"]["compression"] == "SNAPPY"
        hive = conversion["inputFormatConfiguration"]["deserializer"]["hiveJsonSerDe"]
        assert hive["timestampFormats"] == [page_view.AT_JODA_FORMAT]
        schema = conversion["schemaConfiguration"]
        assert (schema["databaseName"], schema["tableName"], schema["region"]) == (glue_name(cfg), TABLE, region)
        assert exported[region]["deliveryStream"] == stream.state["name"]
        if cfg.page_view_transport == "sqs-fifo":
            assert stream.inputs["serverSideEncryption"] == {"enabled": True, "keyType": "AWS_OWNED_CMK"}
            assert "kinesisSourceConfiguration" not in stream.inputs
        else:
            [kinesis] = [k for k in run.of_type("aws:kinesis/stream:Stream") if k.region == region]
            assert stream.inputs["kinesisSourceConfiguration"]["kinesisStreamArn"] == kinesis.state["arn"]
            assert "serverSideEncryption" not in stream.inputs
    for workgroup in run.of_type(WORKGROUP):
        configuration = workgroup.inputs["configuration"]
        assert configuration["enforceWorkgroupConfiguration"] is True
        assert configuration["bytesScannedCutoffPerQuery"] == cfg.analytics_bytes_scanned_limit_mb * 1024 * 1024
        assert configuration["resultConfiguration"]["encryptionConfiguration"] == {"encryptionOption": "SSE_S3"}


def test_the_views_consumer_forwards_to_its_regions_stream_only_when_the_transport_is_the_queue():
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]  # a dr on a Kinesis transport
    assert overrides["pageViewTransport"] != "sqs-fifo"
    for run, forwards in ((cached_stack("dr"), True), (cached_stack(base, **overrides), False)):
        for function in [f for f in run.of_type("aws:lambda/function:Function") if f.name.startswith("views-")]:
            variables = function.inputs["environment"]["variables"]
            assert ("ANALYTICS_DELIVERY_STREAM" in variables) is forwards, function.name


def test_every_analytics_bucket_replicates_to_every_other_region_without_rtc():
    run = cached_stack("dr")
    configs = [
        c for c in run.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") if c.name.startswith("analytics-")
    ]
    cfg = config_of(run)
    assert sorted(c.region for c in configs) == sorted(cfg.regions)
    for config in configs:
        [rule] = config.inputs["rules"]
        assert rule["destination"].get("replicationTime") is None and rule["destination"].get("metrics") is None
    buckets = [b for b in run.of_type("aws:s3/bucket:Bucket") if re.fullmatch(r"analytics-[a-z0-9-]+-\d", b.name)]
    for bucket in buckets:
        [lifecycle] = [
            lc
            for lc in run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
            if lc.name == f"{bucket.name}-lifecycle"
        ]
        expiry = next(r for r in lifecycle.inputs["rules"] if r["id"] == "expire-objects")
        assert expiry["expiration"]["days"] == cfg.analytics_retention_days


def test_without_analytics_nothing_of_it_is_planned():
    run = cached_stack("dev", analytics=False)
    for type_ in (FIREHOSE, GLUE_TABLE, WORKGROUP, NAMED_QUERY):
        assert run.of_type(type_) == []
    assert "analytics" not in run.outputs


# --- saved queries ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_each_saved_query_parses_and_names_only_the_tables_columns(name):
    table = cached_stack("dr").of_type(GLUE_TABLE)[0]
    sql = QUERIES[name].sql
    expression = sqlglot.parse_one(sql, read="athena")
    assert {t.name for t in expression.find_all(sqlglot.exp.Table)} == {TABLE}
    # Resolving every column against the planned table fails on a column the table lacks.
    qualify(expression, schema={TABLE: table_schema(table)}, dialect="athena", validate_qualify_columns=True)
    # Each query reads only the days it needs: a filter on the dt partition.
    where = expression.find(sqlglot.exp.Where)
    assert where is not None and "dt" in {c.name for c in where.find_all(sqlglot.exp.Column)}


def test_a_query_naming_a_missing_column_is_caught_by_the_same_check():
    table = cached_stack("dr").of_type(GLUE_TABLE)[0]
    with pytest.raises(sqlglot.errors.OptimizeError, match="visitor"):
        qualify(
            sqlglot.parse_one("SELECT visitor FROM page_views", read="athena"),
            schema={TABLE: table_schema(table)},
            dialect="athena",
            validate_qualify_columns=True,
        )


def test_the_saved_queries_are_planned_in_every_region_against_its_database_and_workgroup():
    run = cached_stack("dr")
    cfg = config_of(run)
    planned = run.of_type(NAMED_QUERY)
    assert len(planned) == len(QUERIES) * len(cfg.regions)
    for query in planned:
        assert query.inputs["query"] == QUERIES[query.inputs["name"]].sql
        assert query.inputs["database"] == glue_name(cfg)
        assert query.inputs["workgroup"] == f"{cfg.project}-{cfg.stack}-analytics"


# --- cost and validation ------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_the_analytics_path_adds_nothing_standing_and_is_priced_by_use(stack):
    with_analytics = cached_stack(stack)
    without = cached_stack(stack, analytics=False)
    assert cost.idle_monthly(with_analytics) == cost.idle_monthly(without)
    added = cost.page_views_cost(with_analytics, 1e6) - cost.page_views_cost(without, 1e6)
    cfg = config_of(with_analytics)
    # Views counted through the API: one record each, billed as 5 KB. From the edge's logs: a
    # file's views concatenated in a few records, billed by their bytes.
    gb = 1e6 * cost.ASSUMPTIONS["view_record_bytes"] / 1e9 if cfg.edge_reads else 1e6 * 5 / 1024 / 1024
    assert added == pytest.approx(gb * (cost.price("firehose_ingest_gb") + cost.price("firehose_format_conversion_gb")))
    assert "athena_query_at_most" in cost.unit_prices(with_analytics)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"database_name": "blog-analytics"}, "must be lower-case letters, digits and _"),
        ({"buffer_seconds": 30}, "outside 60-900"),
        ({"partition_regions": ["us-west-2"]}, "must include us-east-1"),
        ({"bytes_scanned_limit": 1024}, "10 MB, Athena's minimum"),
        ({"columns": [Column("dt", "string")]}, "none named region or dt"),
        ({"prefix": "/events"}, "relative prefix ending in /"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_created(change, message):
    args = AnalyticsArgs(
        region="us-east-1",
        bucket_name="b",
        bucket_arn="arn:aws:s3:::b",
        columns=[Column("post_id", "string")],
        partition_regions=["us-east-1"],
        database_name="blog_analytics",
        workgroup_name="blog",
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        AnalyticsArgs(**{**args.__dict__, **change}).validate()
