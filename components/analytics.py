"""Analytics: events queryable with SQL in one region, from a Firehose delivery stream to Athena.

Creates in the region of its provider:
- a Glue database `database_name` and table `table_name`: Parquet under
  `s3://<bucket>/<prefix>region=<region>/dt=<yyyy-MM-dd>/`, columns from `columns` (generated
  from the event's JSON schema by `glue_columns`), partitions `region` and `dt` found by partition
  projection (the regions of `partition_regions`, every day since `projection_start`): no crawler,
  nothing to run, nothing standing;
- a Firehose delivery stream `{name}-delivery` reading the Kinesis stream `source_stream_arn`, or
  taking direct puts when there is none (then encrypted at rest with an AWS owned key; a
  Kinesis-sourced stream relies on the source's encryption), converting the JSON records to
  Parquet (Snappy) with the table's schema (Hive JSON SerDe, `timestamp_formats`), buffered
  `buffer_seconds` (format conversion needs 64 MB buffers), written under this region's
  partition with the arrival date, failures under `errors/`, its own log group;
- an Athena workgroup `workgroup_name` that enforces its settings: results in a private bucket
  `{name}-results` (SSE-S3, expiring after `results_days`), a per-query limit of
  `bytes_scanned_limit` bytes, CloudWatch metrics; and one saved query per `queries` entry.

The data bucket is the caller's (`bucket_name`/`bucket_arn`): with one bucket per region
replicating to the others (ReplicatedBuckets), every region's table reads every region's data.

Inputs (`AnalyticsArgs`): `region`, `bucket_name`, `bucket_arn`, `prefix`, `columns`,
`partition_regions`, `projection_start`, `database_name`, `table_name`, `workgroup_name`,
`source_stream_arn`, `timestamp_formats`, `buffer_seconds`, `bytes_scanned_limit`, `results_days`,
`queries` (`{name: NamedQuerySpec}`), `log_retention_days`, `log_key_arn`, `tags`. Outputs: `delivery_stream_name`,
`delivery_stream_arn`, `database_name`, `table_name`, `workgroup_name`, `results_bucket`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ._blocks.access_logs import log_access
from ._blocks.log_group import log_group
from ._blocks.private_bucket import private_bucket
from .policies import allow, policy_document

# Firehose's record format conversion needs a buffer of at least 64 MiB (the Firehose guide).
CONVERSION_BUFFER_MB = 64
MIN_BYTES_SCANNED_LIMIT = 10 * 1024 * 1024  # Athena's smallest per-query limit
# Every table is partitioned by the region whose delivery stream wrote it and the arrival day.
PARTITION_KEYS = {"region": "the region that recorded it", "dt": "the day it arrived (UTC), yyyy-MM-dd"}
GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
# JSON schema types -> Hive types (the Glue table, so the Parquet Firehose writes).
HIVE_TYPES = {"string": "string", "integer": "bigint", "number": "double", "boolean": "boolean"}
PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class NamedQuerySpec:
    description: str
    sql: str


def glue_columns(schema: Mapping[str, Any]) -> list[Column]:
    """The Glue columns of a flat JSON object schema, in its property order, less the partitions.

    A string with `format: date-time` is a timestamp; other types map by HIVE_TYPES. Nested
    objects and arrays are refused: the events here are flat, and a silent `string` would hide
    the mistake until a query fails. A property named like a partition (`region`) is that
    partition: its value is the path Firehose wrote the record under, so it is not stored twice."""
    columns = []
    for name, spec in schema["properties"].items():
        if name in PARTITION_KEYS:
            if spec.get("type") != "string":
                raise ValueError(f"glue_columns: property {name!r} is a partition and must be a string")
            continue
        kind = spec.get("type")
        if kind == "string" and spec.get("format") == "date-time":
            hive = "timestamp"
        elif kind in HIVE_TYPES:
            hive = HIVE_TYPES[kind]
        else:
            raise ValueError(f"glue_columns: property {name!r} has type {kind!r}: only flat string/number/boolean fields map")
        columns.append(Column(name, hive, spec.get("description", "")))
    return columns


@dataclass(frozen=True, kw_only=True)
class AnalyticsArgs:
    region: str
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    columns: Sequence[Column]
    partition_regions: Sequence[str]
    database_name: str
    workgroup_name: str
    table_name: str = "events"
    prefix: str = "events/"
    projection_start: str = "2026-01-01"
    source_stream_arn: pulumi.Input[str] | None = None  # None: producers put records directly
    timestamp_formats: Sequence[str] = ()
    buffer_seconds: int = 300
    bytes_scanned_limit: int = 1024**3
    results_days: int = 30
    queries: Mapping[str, NamedQuerySpec] = field(default_factory=dict)
    log_retention_days: int = 14
    log_key_arn: pulumi.Input[str] | None = None  # a CMK for the delivery-error log group (components/hardening.py)
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        for what, value in (("database_name", self.database_name), ("table_name", self.table_name)):
            if not GLUE_NAME.match(value):
                raise ValueError(f"AnalyticsArgs.{what}: {value!r} must be lower-case letters, digits and _ (a Glue name)")
        if self.region not in self.partition_regions:
            raise ValueError(f"AnalyticsArgs.partition_regions: {list(self.partition_regions)} must include {self.region}")
        if not self.columns or set(PARTITION_KEYS) & {c.name for c in self.columns}:
            raise ValueError("AnalyticsArgs.columns: at least one column, and none named region or dt (the partitions)")
        if not 60 <= self.buffer_seconds <= 900:
            raise ValueError(f"AnalyticsArgs.buffer_seconds: {self.buffer_seconds} is outside 60-900 (Firehose's range)")
        if self.bytes_scanned_limit < MIN_BYTES_SCANNED_LIMIT:
            raise ValueError(
                f"AnalyticsArgs.bytes_scanned_limit: at least {MIN_BYTES_SCANNED_LIMIT} bytes (10 MB, Athena's minimum)"
            )
        if not self.prefix.endswith("/") or self.prefix.startswith("/"):
            raise ValueError(f"AnalyticsArgs.prefix: {self.prefix!r} must be a relative prefix ending in /")


class Analytics(pulumi.ComponentResource):
    delivery_stream_name: pulumi.Output[str]
    delivery_stream_arn: pulumi.Output[str]
    database_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]
    results_bucket: pulumi.Output[str]

    def __init__(self, name: str, args: AnalyticsArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:Analytics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        location = pulumi.Output.concat("s3://", args.bucket_name, "/", args.prefix)

        database = aws.glue.CatalogDatabase(f"{name}-database", name=args.database_name, opts=child)
        table = aws.glue.CatalogTable(
            f"{name}-table",
            name=args.table_name,
            database_name=database.name,
            table_type="EXTERNAL_TABLE",
            parameters=pulumi.Output.all(location).apply(lambda loc: _table_parameters(loc[0], args)),
            partition_keys=[
                aws.glue.CatalogTablePartitionKeyArgs(name=key, type="string", comment=comment)
                for key, comment in PARTITION_KEYS.items()
            ],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=location,
                input_format=PARQUET["input_format"],
                output_format=PARQUET["output_format"],
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=PARQUET["serde"], parameters={"serialization.format": "1"}
                ),
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(name=c.name, type=c.type, comment=c.comment or None)
                    for c in args.columns
                ],
            ),
            opts=child,
        )

        logs = log_group(f"{name}-delivery-logs", args.log_retention_days, args.log_key_arn, tags, child)
        log_stream = aws.cloudwatch.LogStream(f"{name}-delivery-errors", log_group_name=logs.name, name="S3Delivery", opts=child)
        provider = opts.provider if opts else None
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=provider))
        glue_arns = [
            pulumi.Output.concat("arn:aws:glue:", args.region, ":", account.account_id, ":catalog"),
            database.arn,
            table.arn,
        ]
        bucket_objects = pulumi.Output.from_input(args.bucket_arn).apply(lambda arn: f"{arn}/*")
        statements = [
            allow(
                # AbortMultipartUpload acts on objects: granted below, on them.
                ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                [args.bucket_arn],
                "Bucket",
            ),
            allow(["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], [bucket_objects], "Objects"),
            allow(["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"], glue_arns, "Schema"),
            allow(["logs:PutLogEvents"], [log_stream.arn], "DeliveryErrors"),
        ]
        if args.source_stream_arn is not None:
            statements.append(
                allow(
                    ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
                    [args.source_stream_arn],
                    "ReadSource",
                )
            )
        role = aws.iam.Role(
            f"{name}-delivery-role", assume_role_policy=_firehose_trust(account.account_id), tags=tags, opts=child
        )
        policy = aws.iam.RolePolicy(f"{name}-delivery-policy", role=role.id, policy=policy_document(statements), opts=child)

        stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-delivery",
            destination="extended_s3",
            kinesis_source_configuration=aws.kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs(
                kinesis_stream_arn=args.source_stream_arn, role_arn=role.arn
            )
            if args.source_stream_arn is not None
            else None,
            # Direct put: encrypted at rest here; a Kinesis source is encrypted by the stream.
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="AWS_OWNED_CMK"
            )
            if args.source_stream_arn is None
            else None,
            extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
                bucket_arn=args.bucket_arn,
                role_arn=role.arn,
                prefix=f"{args.prefix}region={args.region}/dt=!{{timestamp:yyyy-MM-dd}}/",
                error_output_prefix=f"errors/{args.region}/!{{firehose:error-output-type}}/dt=!{{timestamp:yyyy-MM-dd}}/",
                buffering_size=CONVERSION_BUFFER_MB,
                buffering_interval=args.buffer_seconds,
                cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                    enabled=True, log_group_name=logs.name, log_stream_name=log_stream.name
                ),
                data_format_conversion_configuration=_conversion(args, database.name, table.name, role.arn),
            ),
            tags=tags,
            # Firehose checks its role (and the table it reads the schema from) when it is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, table]),
        )

        results = private_bucket(f"{name}-results", child, tags, expire_objects_after_days=args.results_days)
        # Who read the query results (they hold the page-view data) is on record too.
        log_access(f"{name}-results", results, child, tags, args.results_days)
        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=args.workgroup_name,
            force_destroy=True,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=args.bytes_scanned_limit,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", results.name, "/"),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
            tags=tags,
            opts=child,
        )
        for query_name, spec in sorted(args.queries.items()):
            aws.athena.NamedQuery(
                f"{name}-{query_name}",
                name=query_name,
                description=spec.description,
                database=database.name,
                workgroup=workgroup.name,
                query=spec.sql,
                opts=child,
            )

        self.delivery_stream_name = stream.name
        self.delivery_stream_arn = stream.arn
        self.database_name = database.name
        self.table_name = table.name
        self.workgroup_name = workgroup.name
        self.results_bucket = results.name
        self.register_outputs(
            {
                "delivery_stream_name": stream.name,
                "delivery_stream_arn": stream.arn,
                "database_name": database.name,
                "table_name": table.name,
                "workgroup_name": workgroup.name,
                "results_bucket": results.name,
            }
        )


def _firehose_trust(account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Firehose may assume the role for this account's delivery streams only (confused deputy)."""
    return pulumi.Output.from_input(account_id).apply(
        lambda account: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "firehose.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": account}},
                    }
                ],
            }
        )
    )


def _table_parameters(location: str, args: AnalyticsArgs) -> dict[str, str]:
    """Partition projection: Athena computes the partitions from these, no crawler or MSCK needed."""
    return {
        "classification": "parquet",
        "EXTERNAL": "TRUE",
        "parquet.compression": "SNAPPY",
        "projection.enabled": "true",
        "projection.region.type": "enum",
        "projection.region.values": ",".join(args.partition_regions),
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": f"{args.projection_start},NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "storage.location.template": location + "region=${region}/dt=${dt}/",
    }


def _conversion(args: AnalyticsArgs, database, table, role_arn):
    conversion = aws.kinesis
    deserializer = conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs(
        hive_json_ser_de=conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerHiveJsonSerDeArgs(
            timestamp_formats=list(args.timestamp_formats) or None
        )
    )
    serializer = conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerArgs(
        parquet_ser_de=conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerParquetSerDeArgs(
            compression="SNAPPY"
        )
    )
    return conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs(
        enabled=True,
        input_format_configuration=conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs(
            deserializer=deserializer
        ),
        output_format_configuration=conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationArgs(
            serializer=serializer
        ),
        schema_configuration=conversion.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationSchemaConfigurationArgs(
            database_name=database, table_name=table, role_arn=role_arn, region=args.region
        ),
    )
