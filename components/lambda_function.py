"""LambdaFunction: a function with its role, log group, tracing and alarms; every component's Lambda.

Creates
- `{name}-role` (assumable by Lambda only) and `{name}-policy`: writing to its own log group,
  X-Ray segments, and exactly the `statements` the caller grants, nothing else;
- `{name}-logs`: a log group with retention; the function logs JSON there (`logging_config`);
- `{name}`: the function: arm64, Python 3.13, active tracing, the code archive and layers given;
- `{name}-errors`, `{name}-throttles`: alarms to `alert_topic_arn`.

Inputs (`LambdaFunctionArgs`): `handler`, `code`, `layers`, `environment`, `statements`,
`timeout` (s), `memory_size` (MB), `reserved_concurrency` (None: the hardening's limit, if any),
`log_retention_days`, `alert_topic_arn`, `hardening` (keys for logs and environment, a
concurrency limit: components/hardening.py), `tags`.
Outputs: `function_name`, `arn`, `role_arn`, `timeout`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from ._blocks.log_group import log_group
from .hardening import Hardening
from .policies import allow, assume_role_policy, policy_document

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"


@dataclass(frozen=True, kw_only=True)
class LambdaFunctionArgs:
    handler: str
    code: pulumi.Archive
    alert_topic_arn: pulumi.Input[str] | None  # None: no alarms
    log_retention_days: int
    layers: Sequence[pulumi.Input[str]] = ()
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statements: Sequence[Mapping[str, Any]] = ()
    timeout: int = 10
    memory_size: int = 512
    reserved_concurrency: int | None = None
    # Throttles alarm: for functions invoked synchronously (API). Queue and stream consumers retry
    # throttled batches; their backlog alarms (oldest message, iterator age) show one that falls behind.
    throttle_alarm: bool = True
    # Errors alarm: off for a consumer whose failures its DLQ-depth alarm reports and whose retried
    # errors are not an incident (a counter or a page that lags a little).
    errors_alarm: bool = True
    # The Lambda platform's own log lines (START, END, REPORT at INFO): "WARN" for a function
    # invoked every few seconds whose routine runs are not worth the ingestion.
    system_log_level: str | None = None
    hardening: Hardening = field(default_factory=Hardening)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def effective_reserved_concurrency(self) -> int | None:
        return self.reserved_concurrency if self.reserved_concurrency is not None else self.hardening.concurrency_limit

    def validate(self) -> None:
        if not 1 <= self.timeout <= 900:
            raise ValueError(f"LambdaFunctionArgs.timeout: {self.timeout} s is outside 1-900")
        if not 128 <= self.memory_size <= 10240:
            raise ValueError(f"LambdaFunctionArgs.memory_size: {self.memory_size} MB is outside 128-10240")
        if self.system_log_level not in (None, "DEBUG", "INFO", "WARN"):
            raise ValueError(f"LambdaFunctionArgs.system_log_level: DEBUG, INFO or WARN, got {self.system_log_level!r}")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 1:
            raise ValueError("LambdaFunctionArgs.reserved_concurrency: at least 1, or None for unreserved")
        self.hardening.validate("LambdaFunctionArgs")
        for statement in self.statements:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if any(a == "*" or a.endswith(":*") for a in actions):
                raise ValueError(f"LambdaFunctionArgs.statements: wildcard action in {list(actions)}; grant named actions")


class LambdaFunction(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    timeout: int

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:LambdaFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        logs = log_group(f"{name}-logs", args.log_retention_days, args.hardening.log_key_arn, tags, child)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com"), tags=tags, opts=child)
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policy_document(
                [
                    allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logs.arn.apply(lambda a: f"{a}:*")], "OwnLogGroup"),
                    # X-Ray write actions support no resource-level permissions.
                    allow(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"], "Tracing"),
                    *args.statements,
                ]
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            name,
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=args.handler,
            code=args.code,
            layers=list(args.layers),
            timeout=args.timeout,
            memory_size=args.memory_size,
            reserved_concurrent_executions=args.effective_reserved_concurrency,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=logs.name, system_log_level=args.system_log_level
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)) if args.environment else None,
            kms_key_arn=args.hardening.environment_key_arn if args.environment else None,
            tags=tags,
            # The first invocation must find its permissions and log group in place.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[policy, logs])),
        )

        alarmed = [("Errors", "invocations that raised (handler bug or dependency failure)")] if args.errors_alarm else []
        if args.throttle_alarm:
            alarmed.append(("Throttles", "invocations refused for lack of concurrency"))
        for metric, description in alarmed:
            metric_alarm(
                f"{name}-{metric.lower()}",
                description=f"{name}: {description}",
                namespace="AWS/Lambda",
                metric=metric,
                dimensions={"FunctionName": function.name},
                statistic="Sum",
                threshold=1,
                comparison="GreaterThanOrEqualToThreshold",
                topic_arn=args.alert_topic_arn,
                tags=tags,
                opts=child,
            )

        self.function_name = function.name
        self.arn = function.arn
        self.role_arn = role.arn
        self.timeout = args.timeout
        self.register_outputs({"function_name": self.function_name, "arn": self.arn, "role_arn": self.role_arn})
