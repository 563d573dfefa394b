"""The IAM contract: every AWS call a function makes is allowed by the role the stack gives it.

moto does not evaluate IAM or KMS, so a handler test passes whatever its role says. This module
closes that gap offline:

1. `CallRecorder` records every call the handlers make through botocore (service, operation,
   region, parameters, outcome), including the presigned URLs they hand out (the browser's
   request is authorised by the signer's role);
2. `requirements(call)` maps a call to the IAM actions, resource ARNs and request context it
   needs: TransactWriteItems to the actions of its parts, a HeadObject of a missing key to
   s3:ListBucket as well (only then is the answer 404 rather than 403), calls on a table under a
   customer-managed key to the kms actions on that replica's key;
3. the event-source mappings and log groups of the offline run add what the Lambda service does
   with the function's role (reading the queue or stream, the on-failure destination, logs);
4. `allowed(...)` evaluates each requirement against the role policy the offline run recorded for
   that function: Allow/Deny, Action/NotAction, Resource/NotResource with wildcards, and the
   condition operators the program uses (a condition on a key the request does not carry fails).

`check(run, region)` runs a workload through each function of the region against moto worlds
named after the offline run's resources, and returns the calls the role would deny.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from policy.access import as_list
from verify.harness import setup_client

ACCOUNT = "123456789012"
TABLE_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})
TABLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
TRANSACT_PARTS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
SIGNING_SERVICE = {"sesv2": "ses", "dynamodbstreams": "dynamodb"}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str
    params: dict[str, Any]
    error: str | None = None  # the error code, or None when it succeeded


@dataclass(frozen=True)
class Requirement:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)
    because: str = ""

    def describe(self) -> str:
        return f"{self.action} on {self.resource} ({self.because})"


# --- recording ------------------------------------------------------------------------------


class CallRecorder:
    """Records calls made through botocore clients created while it is active."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._paused = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made by the harness, not by the function (reading what it published)."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    @contextlib.contextmanager
    def active(self) -> Iterator[CallRecorder]:
        import botocore.client
        import botocore.signers
        from botocore.exceptions import ClientError

        recorder = self
        original_call = botocore.client.BaseClient._make_api_call

        def make_api_call(client, operation_name, api_params):
            if recorder._paused:
                return original_call(client, operation_name, api_params)
            service = client.meta.service_model.service_name
            try:
                result = original_call(client, operation_name, api_params)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code") or str(
                    error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                )
                recorder.calls.append(Call(service, operation_name, client.meta.region_name, dict(api_params), code))
                raise
            except NotImplementedError:
                # moto lacks the operation (RDS switchover, failover): AWS would still authorize the call.
                recorder.calls.append(Call(service, operation_name, client.meta.region_name, dict(api_params), "NotImplemented"))
                raise
            recorder.calls.append(Call(service, operation_name, client.meta.region_name, dict(api_params)))
            return result

        original_post, original_url = botocore.signers.generate_presigned_post, botocore.signers.generate_presigned_url

        def presigned_post(client, Bucket, Key, *args, **kwargs):
            recorder.calls.append(Call("s3", "PutObject", client.meta.region_name, {"Bucket": Bucket, "Key": Key}))
            return original_post(client, Bucket, Key, *args, **kwargs)

        def presigned_url(client, ClientMethod, Params=None, *args, **kwargs):
            operation = client.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
            recorder.calls.append(
                Call(client.meta.service_model.service_name, operation, client.meta.region_name, dict(Params or {}))
            )
            return original_url(client, ClientMethod, Params, *args, **kwargs)

        with (
            mock.patch.object(botocore.client.BaseClient, "_make_api_call", make_api_call),
            mock.patch.object(botocore.signers, "generate_presigned_post", presigned_post),
            mock.patch.object(botocore.signers, "generate_presigned_url", presigned_url),
        ):
            yield self


# --- what a call needs ----------------------------------------------------------------------


def table_arn(region: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"


def requirements(call: Call, table_keys: dict[str, str]) -> list[Requirement]:
    """IAM requirements of one call; `table_keys` maps a replica's table ARN to its CMK ARN."""
    region, p = call.region, call.params
    because = f"{call.service}.{call.operation}"
    if call.service == "dynamodb":
        if call.operation == "TransactWriteItems":
            needs = []
            for item in p["TransactItems"]:
                ((part, body),) = item.items()
                arn = table_arn(region, body["TableName"])
                context = _leading_keys(body)
                needs += [Requirement(f"dynamodb:{TRANSACT_PARTS[part]}", arn, context, because=f"{because} {part}")]
                needs += _kms(table_keys, arn, write=part != "ConditionCheck", because=because)
            return needs
        if call.operation == "BatchGetItem":
            return [
                Requirement("dynamodb:BatchGetItem", table_arn(region, name), _leading_keys(request), because=because)
                for name, request in p["RequestItems"].items()
            ]
        arn = table_arn(region, p["TableName"])
        resource = f"{arn}/index/{p['IndexName']}" if p.get("IndexName") else arn
        return [
            Requirement(f"dynamodb:{call.operation}", resource, _leading_keys(p), because=because),
            *_kms(table_keys, arn, write=call.operation in TABLE_WRITES, because=because),
        ]
    if call.service == "lambda" and call.operation == "Invoke":
        name = p["FunctionName"]
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        return [Requirement("lambda:InvokeFunction", arn, because=because)]
    if call.service == "sns" and call.operation == "Publish":
        return [Requirement("sns:Publish", p["TopicArn"], because=because)]
    if call.service == "sqs" and call.operation in ("SendMessage", "SendMessageBatch"):
        name = p["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        return [Requirement(f"sqs:{call.operation}", f"arn:aws:sqs:{region}:{ACCOUNT}:{name}", because=because)]
    if call.service == "kinesis" and call.operation in ("PutRecord", "PutRecords"):
        return [
            Requirement(
                f"kinesis:{call.operation}", f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{p['StreamName']}", because=because
            )
        ]
    if call.service == "firehose" and call.operation in ("PutRecord", "PutRecordBatch"):
        arn = f"arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{p['DeliveryStreamName']}"
        return [Requirement(f"firehose:{call.operation}", arn, because=because)]
    if call.service == "s3":
        bucket, key = p["Bucket"], p.get("Key", "")
        objects = f"arn:aws:s3:::{bucket}/{key}"
        if call.operation in ("GetObject", "HeadObject"):
            needs = [Requirement("s3:GetObject", objects, because=because)]
            if call.error in ("404", "NoSuchKey", "NotFound"):
                # Only a caller allowed s3:ListBucket on the bucket is told 404; HeadObject carries no
                # s3:prefix, so a ListBucket grant conditioned on one does not count.
                needs.append(Requirement("s3:ListBucket", f"arn:aws:s3:::{bucket}", because=f"{because} of a missing key"))
            return needs
        if call.operation == "ListObjectsV2":
            return [Requirement("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": p.get("Prefix", "")}, because=because)]
        return [Requirement(f"s3:{call.operation}", objects, because=because)]
    if call.service == "ssm" and call.operation == "GetParameter":
        return [Requirement("ssm:GetParameter", f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{p['Name']}", because=because)]
    if call.service == "sesv2" and call.operation == "SendEmail":
        # SES checks the From address's identity and, for a domain-verified sender, the domain's.
        sender = p["FromEmailAddress"]
        identities = [sender, sender.split("@", 1)[1]]
        needs = [
            Requirement("ses:SendEmail", f"arn:aws:ses:{region}:{ACCOUNT}:identity/{i}", because=because) for i in identities
        ]
        if p.get("ConfigurationSetName"):
            arn = f"arn:aws:ses:{region}:{ACCOUNT}:configuration-set/{p['ConfigurationSetName']}"
            needs.append(Requirement("ses:SendEmail", arn, because=because))
        return needs
    if call.service == "cloudfront" and call.operation == "CreateInvalidation":
        arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{p['DistributionId']}"
        return [Requirement("cloudfront:CreateInvalidation", arn, because=because)]
    if call.service == "secretsmanager" and call.operation == "GetSecretValue":
        return [Requirement("secretsmanager:GetSecretValue", p["SecretId"], because=because)]
    if call.service == "rds":
        return _rds_requirements(call, because)
    if call.service == "rds-data" and call.operation == "ExecuteStatement":
        # The Data API reads the credentials' secret with the caller's rights.
        return [
            Requirement("rds-data:ExecuteStatement", p["resourceArn"], because=because),
            Requirement("secretsmanager:GetSecretValue", p["secretArn"], because=f"{because} reads its secret"),
        ]
    raise ValueError(f"the IAM contract does not know {because}: add its requirements")


def _rds_requirements(call: Call, because: str) -> list[Requirement]:
    """The database follower's calls (shared/database_follower.py): each on the resources it names."""
    p, region = call.params, call.region

    def db(name: str) -> str:
        return f"arn:aws:rds:{region}:{ACCOUNT}:db:{name}"

    def cluster(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{name}"

    global_cluster = f"arn:aws:rds::{ACCOUNT}:global-cluster:{p.get('GlobalClusterIdentifier', '')}"
    resources = {
        "DescribeGlobalClusters": lambda: [global_cluster],
        "DescribeDBClusters": lambda: [cluster(p["DBClusterIdentifier"])],
        "DescribeDBInstances": lambda: [db(p["DBInstanceIdentifier"])],
        "CreateDBInstance": lambda: [db(p["DBInstanceIdentifier"]), cluster(p["DBClusterIdentifier"])],
        "SwitchoverGlobalCluster": lambda: [global_cluster, p["TargetDbClusterIdentifier"]],
        "FailoverGlobalCluster": lambda: [global_cluster, p["TargetDbClusterIdentifier"]],
    }
    if call.operation not in resources:
        raise ValueError(f"the IAM contract does not know {because}: add its requirements")
    return [Requirement(f"rds:{call.operation}", arn, because=because) for arn in resources[call.operation]()]


def _leading_keys(params: dict[str, Any]) -> dict[str, str]:
    """The partition keys a DynamoDB request touches (the `dynamodb:LeadingKeys` condition key),
    as one comma-joined value; none for a Scan or Query (a ForAllValues condition then holds)."""
    keys = [params.get("Key") or params.get("Item")] if (params.get("Key") or params.get("Item")) else params.get("Keys") or []
    # Low-level clients pass {"S": value}; the Table resource passes the plain value at this point.
    raw = [key["pk"] for key in keys if isinstance(key, dict) and "pk" in key]
    values = sorted({next(iter(v.values())) if isinstance(v, dict) else str(v) for v in raw})
    return {"dynamodb:LeadingKeys": ",".join(values)} if values else {}


def _kms(table_keys: dict[str, str], table: str, *, write: bool, because: str) -> list[Requirement]:
    key = table_keys.get(table)
    if key is None:
        return []
    actions = ["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])]
    # DynamoDB makes the call: the request carries kms:ViaService of the table's region.
    context = {"kms:ViaService": f"dynamodb.{key.split(':')[3]}.amazonaws.com"}
    return [Requirement(a, key, context, because=f"{because} on a table under a customer-managed key") for a in actions]


def platform_requirements(run, function) -> list[Requirement]:
    """What Lambda does with the function's role: its log group, the mappings that feed it."""
    needs = []
    groups = [
        g
        for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.urn in function.property_dependencies.get("loggingConfig", [])
    ]
    for group in groups:
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            needs.append(Requirement(action, f"{group.state['arn']}:log-stream:x", because="the function's logs"))
    if (function.inputs.get("tracingConfig") or {}).get("mode") == "Active":
        # Active tracing: Lambda's X-Ray daemon sends the function's segments with its role.
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            needs.append(Requirement(action, "*", because="active X-Ray tracing"))
    keys = table_keys_of(run)
    for mapping in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        if function.urn not in mapping.property_dependencies.get("functionName", []):
            continue
        source = mapping.inputs["eventSourceArn"]
        service = source.split(":")[2]
        if service == "sqs":
            actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        elif service == "kinesis":
            actions = [
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:ListShards",
            ]
        else:
            actions = ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"]
            key = keys.get(source.split("/stream/")[0])
            if key:
                needs.append(Requirement("kms:Decrypt", key, because="reading a table stream under a customer-managed key"))
        needs += [Requirement(a, source, because="the event-source mapping") for a in actions]
        destination = ((mapping.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
        if destination:
            needs.append(Requirement("sqs:SendMessage", destination, because="the mapping's on-failure destination"))
    return needs


def table_keys_of(run) -> dict[str, str]:
    """Replica table ARN -> its customer-managed key ARN (empty with AWS-owned keys)."""
    keys: dict[str, str] = {}
    for table in run.of_type("aws:dynamodb/table:Table"):
        sse = table.inputs.get("serverSideEncryption") or {}
        if sse.get("kmsKeyArn"):
            keys[table.state["arn"]] = sse["kmsKeyArn"]
        for replica in table.state.get("replicas") or []:
            if replica.get("kmsKeyArn"):
                keys[replica["arn"]] = replica["kmsKeyArn"]
    return keys


# --- evaluating -----------------------------------------------------------------------------

# Grants the workloads cannot make a function use, each with the code path that needs it:
# (statement Sid, action) -> why it is kept.
RARE_PATHS: dict[tuple[str, str], str] = {
    ("DatabaseWriterHere", "rds:FailoverGlobalCluster"): (
        "the new lease holder fails the database over only when the old writer's region does not "
        "answer (relationalDbAutomaticFailover; tests/functions/test_database_follower.py makes the call)"
    ),
    ("LeaseInSyncSet", "dynamodb:GetItem"): (
        "a voter refused an in-sync update: the writer reads it to see whether an earlier attempt "
        "already made the change (shared/lease.py Voters._in_sync_update)"
    ),
    ("IdempotencyRecords", "dynamodb:GetItem"): (
        "Powertools reads a record only when a refused PutItem did not return it "
        "(ReturnValuesOnConditionCheckFailure answers otherwise: idempotency/base.py _process_idempotency)"
    ),
    ("ClaimWelcomesControlAtPrimary", "dynamodb:GetItem"): (
        "the fence refused a claim because this replica's control item lags the primary's: the "
        "writer reads it there (shared/writes.py); the API and retry workloads take this path"
    ),
    ("RecordSuppressionsControlAtPrimary", "dynamodb:GetItem"): (
        "the fence refused a suppression because this replica's control item lags the primary's: "
        "the writer reads it there (shared/writes.py); the API and retry workloads take this path"
    ),
}


def _matches(patterns: list[str], value: str, *, case: bool) -> bool:
    if not case:
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, clauses in conditions.items():
        if_exists = operator.endswith("IfExists")
        for_all = operator.startswith("ForAllValues:")
        base = operator.removesuffix("IfExists").removeprefix("ForAllValues:")
        for key, expected in clauses.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if actual is None:
                if if_exists or for_all:  # IAM: ForAllValues holds over an absent (empty) key
                    continue
                return False
            values = [str(v) for v in as_list(expected)]
            if for_all:
                if base != "StringEquals":
                    raise ValueError(f"condition operator {operator} is not one the contract evaluates")
                if not set(actual.split(",")) <= set(values):
                    return False
                continue
            if base in ("StringEquals", "ArnEquals"):
                ok = actual in values
            elif base in ("StringLike", "ArnLike"):
                ok = _matches(values, actual, case=True)
            elif base == "Bool":
                ok = actual.lower() in [v.lower() for v in values]
            else:
                raise ValueError(f"condition operator {operator} is not one the contract evaluates")
            if not ok:
                return False
    return True


def _applies(statement: dict[str, Any], need: Requirement) -> bool:
    if "Action" in statement and not _matches(as_list(statement["Action"]), need.action, case=False):
        return False
    if "NotAction" in statement and _matches(as_list(statement["NotAction"]), need.action, case=False):
        return False
    if "Resource" in statement and not _matches(as_list(statement["Resource"]), need.resource, case=True):
        return False
    if "NotResource" in statement and _matches(as_list(statement["NotResource"]), need.resource, case=True):
        return False
    return _condition_holds(statement.get("Condition") or {}, need.context)


def allowed(statements: list[dict[str, Any]], need: Requirement) -> bool:
    applicable = [s for s in statements if _applies(s, need)]
    return any(s.get("Effect") == "Allow" for s in applicable) and not any(s.get("Effect") == "Deny" for s in applicable)


def role_statements(run, function) -> list[dict[str, Any]]:
    """The statements of every inline policy on the function's role, as the offline run recorded them."""
    role_urns = set(function.property_dependencies.get("role", []))
    statements = []
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        if role_urns & set(policy.property_dependencies.get("role", [])):
            document = json.loads(policy.inputs["policy"])
            statements += as_list(document["Statement"])
    return statements


@dataclass
class Denial:
    function: str
    requirement: Requirement

    def __str__(self) -> str:
        return f"{self.function}: {self.requirement.describe()} is not allowed by its role"


def needs_of(run, function, calls: list[Call]) -> list[Requirement]:
    """Everything the function's role must allow: its recorded calls and what Lambda does with it."""
    keys = table_keys_of(run)
    needed = [r for call in calls for r in requirements(call, keys)] + platform_requirements(run, function)
    return list({(r.action, r.resource, json.dumps(r.context, sort_keys=True)): r for r in needed}.values())


def denials(name: str, statements: list[dict[str, Any]], needs: list[Requirement]) -> list[Denial]:
    """What the function needs that its role does not allow."""
    return [Denial(name, r) for r in needs if not allowed(statements, r)]


@dataclass(frozen=True)
class UnusedGrant:
    function: str
    sid: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.function}: {self.sid or '?'} grants {self.action} on {self.resource}, which no recorded call needs"


def unused_grants(name: str, statements: list[dict[str, Any]], needs: list[Requirement]) -> list[UnusedGrant]:
    """The reverse direction: each (action, resource) pair an Allow statement grants must admit
    some requirement; one that authorises nothing the function does is a grant a bug or a
    compromised dependency could use. A pair in RARE_PATHS is reported only without its reason."""
    unused = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        for action in as_list(statement.get("Action")):
            for resource in as_list(statement.get("Resource")):
                grant = {**statement, "Action": action, "Resource": resource}
                if any(_applies(grant, need) for need in needs) or (statement.get("Sid"), action) in RARE_PATHS:
                    continue
                unused.append(UnusedGrant(name, statement.get("Sid", ""), action, resource))
    return unused


Workload = Callable[[dict[str, str]], None]


# --- running the functions against a world named after the offline run ----------------------


def _function(run, name: str):
    found = [f for f in run.of_type("aws:lambda/function:Function") if f.name == name]
    return found[0] if found else None


def _environment(function) -> dict[str, str]:
    return dict((function.state.get("environment") or {}).get("variables") or {})


def _build_world(run, region: str, phase: Phase) -> dict[str, Any]:
    """moto resources with the names the offline run gave them (so ARNs match the policies)."""
    import boto3

    from verify.harness import create_app_table, create_idempotency_table

    api = _environment(_function(run, f"api-{region}-fn"))
    for r in run.outputs["regions"]:
        dynamodb = boto3.resource("dynamodb", region_name=r)
        create_app_table(dynamodb, api["TABLE_NAME"])
        create_idempotency_table(dynamodb, run.outputs["idempotencyTableNames"][r])
    ssm = setup_client("ssm", region)
    ssm.put_parameter(Name=run.outputs["drainParameters"][region], Value="false", Type="String")
    _database_world(run, writer=phase.holder)
    if phase.failover_only:
        _lease_world(run, api, phase)
        return {"api_env": api}
    sns, sqs = setup_client("sns", region), setup_client("sqs", region)
    topic = sns.create_topic(Name=api["WRITE_RETRY_TOPIC_ARN"].rsplit(":", 1)[1])["TopicArn"]
    queue = sqs.create_queue(QueueName="write-retry")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    if api.get("EVENTS_QUEUE_URL"):
        sqs.create_queue(QueueName=api["EVENTS_QUEUE_URL"].rsplit("/", 1)[1], Attributes={"FifoQueue": "true"})
    else:
        setup_client("kinesis", region).create_stream(StreamName=api["EVENTS_STREAM_NAME"], ShardCount=1)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    setup_client("s3", region).create_bucket(Bucket=api["MEDIA_BUCKET"], **location)
    views = _environment(_function(run, f"views-{region}-fn"))
    if views.get("ANALYTICS_DELIVERY_STREAM"):
        setup_client("s3", region).create_bucket(Bucket="analytics-contract", **location)
        setup_client("firehose", region).create_delivery_stream(
            DeliveryStreamName=views["ANALYTICS_DELIVERY_STREAM"],
            ExtendedS3DestinationConfiguration={
                "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                "BucketARN": "arn:aws:s3:::analytics-contract",
            },
        )
    ssm.put_parameter(Name=api["SIGNING_KEY_PARAMETER"], Value="contract-signing-key", Type="SecureString")
    edge_log = _edge_log(run, region, location)
    welcome = _function(run, f"welcome-{region}-fn")
    if welcome is not None:
        mail = _environment(welcome)
        identity = mail["SENDER"].split("@", 1)[1]
        setup_client("ses", region).verify_domain_identity(Domain=identity)
        setup_client("sesv2", region).create_configuration_set(ConfigurationSetName=mail["CONFIGURATION_SET"])
    _lease_world(run, api, phase)
    # A subscriber accepted here, written (as every write) at the primary: the welcome's input.
    subscriber = {"pk": "SUB#new@example.com", "sk": "SUB", "email": "new@example.com", "origin_region": region, "version": 1}
    boto3.resource("dynamodb", region_name=phase.holder).Table(api["TABLE_NAME"]).put_item(Item=subscriber)
    return {
        "queue": queue,
        "subscriber": subscriber,
        "views_from_queue": bool(api.get("EVENTS_QUEUE_URL")),
        "api_env": api,
        "edge_log": edge_log,
        "post_page": _post_page_world(run, region, api, location),
    }


def _post_page_world(run, region: str, api: dict[str, str], location: dict) -> str | None:
    """Post pages: the region's site bucket as planned, holding the page of a post deleted since
    (render-all removes it), and a post in the region's replica (its stream's record renders it)."""
    import boto3

    renderer = _function(run, f"pages-{region}-fn")
    if renderer is None:
        return None
    env = _environment(renderer)
    bucket = env["SITE_BUCKET"]
    s3 = setup_client("s3", region)
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket=bucket, Key="posts/" + "e" * 32, Body=b"<!doctype html><title>gone</title>")
    if env.get("STORED_ANSWERS") == "true":
        s3.put_object(Bucket=bucket, Key="api/posts/" + "e" * 32, Body=b"{}")
    if env.get("EDGE_DISTRIBUTION_ID"):
        from verify.harness import cloudfront_distribution

        cloudfront_distribution(env["EDGE_DISTRIBUTION_ID"])
    post_id = "d" * 32
    post = {
        "pk": f"POST#{post_id}",
        "sk": "POST",
        "id": post_id,
        "title": "Contract",
        "body": "text",
        "created_at": "2026-12-05T10:00:00.000Z",
        "version": 1,
        "gsi1pk": "POSTS",
        "gsi1sk": f"2026-12-05T10:00:00.000Z#{post_id}",
    }
    table = boto3.resource("dynamodb", region_name=region).Table(api["TABLE_NAME"])
    table.put_item(Item=post)
    table.put_item(Item={"pk": f"VIEWS#{post_id}", "sk": f"REGION#{region}", "count": 3})
    return post_id


def _database_world(run, *, writer: str) -> None:
    """The relational global database as the run planned it: its global cluster, a cluster per
    region named as planned, and the planned instances (moto starts them at once). Its writer is
    the phase's lease holder, so a region taking the lease over has a writer to move."""
    global_id = run.outputs.get("relationalGlobalCluster")
    if not global_id:
        return
    clusters = {c.region: c for c in run.of_type("aws:rds/cluster:Cluster")}
    planned = [(i.region, i.state["identifier"]) for i in run.of_type("aws:rds/clusterInstance:ClusterInstance")]
    if writer not in {region for region, _ in planned}:
        # A headless cluster writes only once a promotion gave it its instance.
        from shared.database_primary import promoted_instance_id

        planned.append((writer, promoted_instance_id(clusters[writer].state["clusterIdentifier"])))
    setup_client("rds", writer).create_global_cluster(GlobalClusterIdentifier=global_id, Engine="aurora-postgresql")
    for region in sorted(clusters, key=lambda r: r != writer):
        credentials = {"MasterUsername": "contract", "MasterUserPassword": "contract-password"} if region == writer else {}
        setup_client("rds", region).create_db_cluster(
            DBClusterIdentifier=clusters[region].state["clusterIdentifier"],
            Engine="aurora-postgresql",
            GlobalClusterIdentifier=global_id,
            **credentials,
        )
    for region, name in planned:
        setup_client("rds", region).create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=clusters[region].state["clusterIdentifier"],
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )


LEASE_UNTIL_SECONDS = 86_400  # the workloads run under a lease that outlives them


def _lease_world(run, api: dict[str, str], phase: Phase, *, create: bool = True) -> None:
    """With a write lease: its voters, the phase's holder, the phase's in-sync set (with every
    region in it the first write waits for the others, which moto does not replicate to, and
    takes them out)."""
    from shared import clock

    voters = run.outputs.get("leaseVoterTables")
    if not voters:
        return
    home, regions = phase.holder, run.outputs["regions"]
    in_sync = [r for r in regions if r not in phase.out_of_sync]
    now = clock.now_ms()
    until = str(now + (LEASE_UNTIL_SECONDS if phase.lease_live else -LEASE_UNTIL_SECONDS) * 1000)
    from verify.harness import create_voter_tables

    if create:
        create_voter_tables(voters)
    for region, name in voters.items():
        setup_client("dynamodb", region).put_item(
            TableName=name,
            Item={
                "pk": {"S": "LEASE#writer"},
                "holder": {"S": home},
                "epoch": {"N": "1"},
                "expires_at": {"N": until},
                "renewed_at": {"N": str(now)},
                "in_sync": {"SS": in_sync},
            },
        )
    control = {
        "pk": {"S": "CONTROL#writer"},
        "sk": {"S": "CONTROL"},
        "primary_region": {"S": home},
        "epoch": {"N": "1"},
        "lease_until": {"N": until},
        "renewed_at": {"N": str(now)},
        "in_sync": {"SS": in_sync},
        "rev": {"N": "0"},
    }
    for region in regions:  # as replication would have it
        setup_client("dynamodb", region).put_item(TableName=api["TABLE_NAME"], Item=control)


def _api(env: dict[str, str], world: dict[str, Any]) -> None:
    from verify.faults import FaultInjector, Rule, VirtualClock, injected
    from verify.harness import call_api

    admin = {"Idempotency-Key": "contract-0001"}
    call_api("GET", "/health")
    status, post, headers = call_api("POST", "/posts", body={"title": "t", "body": "b"}, headers=admin)
    assert status == 201, post
    call_api("GET", "/posts")
    call_api("GET", f"/posts/{post['id']}")
    call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "u"})
    call_api("DELETE", f"/posts/{post['id']}", query={"version": "2"})
    call_api("POST", "/subscribers", body={"email": "reader@example.com"})
    call_api("GET", f"/writes/{headers['X-Write-Id']}")
    upload = call_api("POST", "/uploads", body={"content_type": "image/png", "size": 100})[1]
    call_api("GET", f"/thumbnails/{upload['thumbnail']}")  # not made yet: 404
    call_api("POST", "/events", body={"post_id": "a" * 32})
    status, second, _ = call_api(
        "POST", "/posts", body={"title": "t2", "body": "b"}, headers={"Idempotency-Key": "contract-0002"}
    )
    assert status == 201, second
    with injected(FaultInjector(VirtualClock(), rules=[Rule(fault="http500", operations=frozenset({"TransactWriteItems"}))])):
        # Deferred: published for the write-retry consumer (its workload applies them).
        assert call_api("POST", "/subscribers", body={"email": "later@example.com"})[0] == 202
        assert call_api("PUT", f"/posts/{second['id']}", body={"version": 1, "title": "later"})[0] == 202
    if env.get("RELATIONAL_DATA_API"):
        # The ledger: moto's Data API answers every statement with no rows, so the purchase is
        # deferred (the retry workload tries it again) and the list is empty.
        purchase = {"reader": "reader@example.com", "item": "a" * 32}
        assert call_api("POST", "/purchases", body=purchase, headers={"Idempotency-Key": "contract-0003"})[0] == 202
        assert call_api("GET", "/purchases", query={"reader": "reader@example.com"})[0] == 200
    if env.get("PREMIUM_SIGNING_KEY_SECRET"):
        # A session reads this region's replica of the signing key first (no secret here: 503),
        # and checks the token against the keys kept in the table (none yet; not a JWT: 401).
        session = {"item": "a" * 32}
        assert call_api("POST", "/premium/session", body=session, headers={"Authorization": "Bearer x"})[0] == 503


def _health(env: dict[str, str], world: dict[str, Any]) -> None:
    from api.health_app import handler

    from verify.harness import FakeContext

    assert handler({}, FakeContext(function_name="health"))["statusCode"] == 200


def _retry(env: dict[str, str], world: dict[str, Any]) -> None:
    """The intents the API deferred in this world (a subscription and a post update), applied;
    then one that meets a failing table and waits (sent back to the queue with a delay)."""
    from retry.app import handler

    from verify.faults import FaultInjector, Rule, VirtualClock, injected
    from verify.harness import FakeContext, sqs_event

    with world["recorder"].paused():
        sqs = setup_client("sqs", env["AWS_REGION"])
        sqs.create_queue(QueueName=env["WRITE_RETRY_QUEUE_URL"].rsplit("/", 1)[1])  # where waiting intents go back
        messages = sqs.receive_message(QueueUrl=world["queue"], MaxNumberOfMessages=10).get("Messages", [])
    bodies = [m["Body"] for m in messages]
    assert bodies, "the API workload deferred nothing"
    assert handler(sqs_event(*bodies), FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    failing = FaultInjector(VirtualClock(), rules=[Rule(fault="http500", operations=frozenset({"TransactWriteItems"}))])
    with injected(failing):
        assert handler(sqs_event(bodies[0]), FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}


def _views(env: dict[str, str], world: dict[str, Any]) -> None:
    from views.app import handler

    from verify.harness import FakeContext, kinesis_event, sqs_fifo_event

    view = json.dumps({"post_id": "a" * 32, "type": "view"})
    event = sqs_fifo_event(view, group="a" * 32) if world["views_from_queue"] else kinesis_event(view.encode())
    assert handler(event, FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}


def _edge_log(run, region: str, location: dict) -> tuple[str, str] | None:
    """The API edge's log bucket (home region) with one log file: a view of a post no other
    workload counts (its first count reads the published one, as any first count does)."""
    import gzip

    buckets = [b for b in run.of_type("aws:s3/bucket:Bucket") if b.name == "api-edge-logs" and b.region == region]
    if not buckets:
        return None
    counter = _function(run, f"edge-views-{region}-fn")
    prefix = _environment(counter)["EDGE_LOG_PREFIX"] if counter is not None else "api-edge/"
    bucket, key = buckets[0].state["bucket"], f"{prefix}E2CONTRACT.2026-12-05-10.0001.gz"
    fields = ["date", "time", "cs-method", "cs-uri-stem", "sc-status", "x-edge-request-id"]
    lines = [
        "#Version: 1.0",
        "#Fields: " + " ".join(fields),
        "2026-12-05\t10:00:00\tGET\t/posts/" + "c" * 32 + "\t200\tcontract1==",
    ]
    s3 = setup_client("s3", region)
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress("\n".join(lines).encode()))
    return bucket, key


def _edge_views(env: dict[str, str], world: dict[str, Any]) -> None:
    from edge_views.app import handler

    from verify.harness import FakeContext, sqs_event

    bucket, key = world["edge_log"]
    notification = json.dumps({"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]})
    assert handler(sqs_event(notification), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    # Delivered again: the file's marks answer (a cancelled transaction), nothing counts twice.
    assert handler(sqs_event(notification), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}


def _pages(env: dict[str, str], world: dict[str, Any]) -> None:
    from pages.app import handler

    from verify.harness import FakeContext

    post_id = world["post_page"]
    keys = {"pk": {"S": f"POST#{post_id}"}, "sk": {"S": "POST"}}
    record = {"eventID": "e1", "eventName": "INSERT", "dynamodb": {"Keys": keys, "SequenceNumber": "1"}}
    assert handler({"Records": [record]}, FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # A view counter published (its stored answer again, when answers are stored).
    counter = {"pk": {"S": f"VIEWS#{post_id}"}, "sk": {"S": f"REGION#{env['AWS_REGION']}"}}
    views = {"eventID": "e2", "eventName": "MODIFY", "dynamodb": {"Keys": counter, "SequenceNumber": "2"}}
    assert handler({"Records": [views]}, FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # The deploy's invocation: every page again, and the deleted post's page removed.
    rendered = handler({"render": "all"}, FakeContext(timeout_ms=30_000))
    assert rendered["rendered"] >= 1 and rendered["removed"] == 1, rendered


def _welcome(env: dict[str, str], world: dict[str, Any]) -> None:
    from welcome.app import handler

    from verify.harness import FakeContext, dynamodb_insert

    event = {"Records": [dynamodb_insert(world["subscriber"], "1", region=env["AWS_REGION"])]}
    assert handler(event, FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # Delivered again (streams deliver at least once): the idempotency record answers.
    assert handler(event, FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # One whose mail cannot be sent: reported, its idempotency record deleted for the redelivery.
    other = {**world["subscriber"], "pk": "SUB#other@example.com", "email": "other@example.com"}
    with _failing("sesv2", "SendEmail"):
        failed = handler({"Records": [dynamodb_insert(other, "2", region=env["AWS_REGION"])]}, FakeContext(timeout_ms=30_000))
    assert failed["batchItemFailures"], "the failed delivery was not reported"


@contextlib.contextmanager
def _failing(service: str, *operations: str) -> Iterator[None]:
    from verify.faults import FaultInjector, Rule, VirtualClock, injected

    with injected(
        FaultInjector(VirtualClock(), rules=[Rule(fault="http500", service=service, operations=frozenset(operations))])
    ):
        yield


def _bounces(env: dict[str, str], world: dict[str, Any]) -> None:
    from bounces.app import handler

    from verify.harness import FakeContext, sqs_event

    def complaint(message_id: str, address: str) -> str:
        recipients = [{"emailAddress": address}]
        return json.dumps(
            {"eventType": "Complaint", "mail": {"messageId": message_id}, "complaint": {"complainedRecipients": recipients}}
        )

    body = complaint("m-1", "a@example.com")
    assert handler(sqs_event(body), FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # Delivered again: the idempotency record answers.
    assert handler(sqs_event(body), FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    # One whose suppression cannot be written: reported, its idempotency record deleted.
    with _failing("dynamodb", "TransactWriteItems", "UpdateItem"):
        assert handler(sqs_event(complaint("m-2", "b@example.com")), FakeContext(timeout_ms=30_000))["batchItemFailures"]


def _thumbnails(env: dict[str, str], world: dict[str, Any]) -> None:
    from thumbnails.app import handler

    from verify.harness import FakeContext, sqs_event

    notification = json.dumps({"Records": [{"s3": {"bucket": {"name": env["_BUCKET"]}, "object": {"key": "uploads/photo.png"}}}]})
    assert handler(sqs_event(notification), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}


def _failover(env: dict[str, str], world: dict[str, Any]) -> None:
    from api.failover_app import handler

    from verify.harness import FakeContext

    report = handler({}, FakeContext(function_name="failover", timeout_ms=25_000))
    expected = ("renewed", "following") if world["phase"].lease_live else ("acquired", "activated")
    assert report["action"] in expected, report
    # A new holder moves the database's writer one step a tick: an instance, then the switchover
    # (which moto does not implement: the call is made and refused, as the grants need).
    for _ in range(2):
        if not (report.get("database") or "").startswith(("database create-instance", "database: ")):
            break
        report = handler({}, FakeContext(function_name="failover", timeout_ms=25_000))


WORKLOADS: dict[str, Workload] = {
    "api-{region}-fn": _api,
    "failover-{region}": _failover,
    "api-{region}-health": _health,
    "write-retry-{region}-fn": _retry,
    "views-{region}-fn": _views,
    "edge-views-{region}-fn": _edge_views,
    "welcome-{region}-fn": _welcome,
    "pages-{region}-fn": _pages,
    "bounces-{region}-fn": _bounces,
    "thumbnails-{region}-fn": _thumbnails,
}


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="PNG")
    return out.getvalue()


@contextlib.contextmanager
def _waiting_without_sleeping() -> Iterator[None]:
    """A write waiting for its confirmation (moto replicates nothing) waits on a clock that moves
    when slept on, not on the wall."""
    import time

    from shared import clock

    moved = [0.0]
    with clock.use(now=lambda: time.time() + moved[0], sleep=lambda seconds: moved.__setitem__(0, moved[0] + seconds)):
        yield


@dataclass(frozen=True)
class Verdict:
    denials: list[Denial]
    unused: list[UnusedGrant]


def check(
    run, region: str, *, mutate: Callable[[Any], None] | None = None, first_phase_only: bool = False
) -> dict[str, list[Denial]]:
    """{function name: denials} for every function of `region` that has a workload. `mutate`
    changes the recorded run before evaluation (a test removing a grant); `first_phase_only`
    runs the workloads once, with the home region holding the lease."""
    verdicts = evaluate(run, region, mutate=mutate, first_phase_only=first_phase_only)
    return {name: verdict.denials for name, verdict in verdicts.items()}


@dataclass(frozen=True)
class Phase:
    """The state of the write lease while the workloads run. Every region holds it in turn (a
    writer's grants cover whichever replica is the primary's); a lapsed lease is taken over; a
    region taken out of the in-sync set is brought back; a voter does not answer."""

    name: str
    holder: str
    lease_live: bool = True
    only: tuple[str, ...] = ()  # the workloads that run (all when empty)
    out_of_sync: tuple[str, ...] = ()  # regions taken out of the in-sync set earlier
    voter_down: str | None = None  # a voter region that does not answer

    @property
    def failover_only(self) -> bool:
        """Only the failover function runs: it needs the tables, the lease and its drain switch."""
        return self.only == ("failover-{region}",)


def phases(run, region: str) -> list[Phase]:
    home, regions = run.outputs["homeRegion"], list(run.outputs["regions"])
    if not run.outputs.get("leaseVoterTables"):
        return [Phase(f"{home} primary", home)]
    other = next(r for r in regions if r != region)
    voters = sorted(run.outputs["leaseVoterTables"])
    return [
        *(Phase(f"{holder} holds the lease", holder) for holder in regions),
        # With the lease lapsed every writer is refused; only the failover function acts.
        Phase("lease lapsed", other, lease_live=False, only=("failover-{region}",)),
        # The holder brings back a region taken out of the set, once its replica holds everything.
        Phase(f"{other} rejoins", region, out_of_sync=(other,), only=("failover-{region}",)),
        # A majority still answers without one voter: the failover function asks the remaining one.
        Phase(f"voter {region} down", region, voter_down=region if region in voters else voters[0], only=("failover-{region}",)),
    ]


def evaluate(
    run, region: str, *, mutate: Callable[[Any], None] | None = None, first_phase_only: bool = False
) -> dict[str, Verdict]:
    """{function name: denials and unused grants} for every function of `region` with a workload,
    over the calls of every phase (a grant used in one of them is used)."""
    if mutate is not None:
        mutate(run)
    calls: dict[str, list[Call]] = {}
    functions: dict[str, Any] = {}
    for phase in phases(run, region)[: 1 if first_phase_only else None]:
        for function, recorded in _record(run, region, phase):
            functions[function.name] = function
            calls.setdefault(function.name, []).extend(recorded)
    verdicts = {}
    for name, found in calls.items():
        # One role read and one mapping of the calls to what they need, for both directions.
        statements, needs = role_statements(run, functions[name]), needs_of(run, functions[name], found)
        verdicts[name] = Verdict(denials(name, statements, needs), unused_grants(name, statements, needs))
    return verdicts


def _record(run, region: str, phase: Phase) -> list[tuple[Any, list[Call]]]:
    import os

    from moto import mock_aws
    from shared import aws

    from verify.harness import configure, reset_handler_state

    configure()
    recorded = []
    saved = dict(os.environ)
    try:
        with mock_aws():
            reset_handler_state()
            world = _build_world(run, region, phase)
            media = _environment(_function(run, f"api-{region}-fn"))["MEDIA_BUCKET"]
            if not phase.failover_only:  # the thumbnails workload's upload
                setup_client("s3", region).put_object(Bucket=media, Key="uploads/photo.png", Body=_png())
            for pattern, workload in WORKLOADS.items():
                function = _function(run, pattern.format(region=region))
                if function is None or (phase.only and pattern not in phase.only):
                    continue
                env = {**_environment(function), "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "_BUCKET": media}
                os.environ.update(env)
                reset_handler_state()
                aws.reset(keep_session=True)  # the recorder sees presigning set up at a client's creation
                recorder = CallRecorder()
                _lease_world(run, world["api_env"], phase, create=False)  # each workload starts from the phase's lease
                with recorder.active(), _waiting_without_sleeping(), _voter_down(run, phase):
                    workload(env, {**world, "phase": phase, "recorder": recorder})
                recorded.append((function, recorder.calls))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_handler_state()
    return recorded


@contextlib.contextmanager
def _voter_down(run, phase: Phase) -> Iterator[None]:
    if phase.voter_down is None:
        yield
        return
    from verify.faults import FaultInjector, Rule, VirtualClock, injected

    table = run.outputs["leaseVoterTables"][phase.voter_down]
    with injected(FaultInjector(VirtualClock(), rules=[Rule(fault="http500", tables=frozenset({table}))])):
        yield
