"""ServerlessApi: a regional REST API in front of one Lambda function, identical in every region.

Creates (region from the provider in `opts`)
- `{name}-fn`: a LambdaFunction with the caller's code, handler, environment and IAM statements,
  plus read access to the drain flag; it receives DRAIN_PARAMETER and ALLOWED_ORIGIN;
- `{name}-drain`: the region's drain flag (SSM). Its value is operated at run time (drill tool),
  so the program ignores changes to it after creation; the health route reads it;
- `{name}-rest`: a REGIONAL REST API from the OpenAPI document built from `routes` and `schemas`
  (Lambda proxy, JSON-schema models, request validators, CORS limited to `allowed_origin`, JSON
  gateway errors);
- `{name}-deployment` (replaced whenever the document changes) and `{name}-stage` (`v1`): JSON
  access logs, execution logging at ERROR without data trace, X-Ray, stage throttling, and the
  encrypted cache for the routes marked `cached` when `cache_enabled`;
- `{name}-key` (value given, the same in every region), `{name}-admin-plan` (throttle + quota) and
  their link: only routes marked `keyed` require the key;
- with `domain`: a DNS-validated regional certificate, a REGIONAL custom domain (TLS 1.2) and a
  base path mapping;
- alarms on the 5xx rate and p99 latency, plus the function's errors/throttles.

Inputs (`ServerlessApiArgs`): `code`, `handler`, `routes`, `schemas`, `environment`,
`statements`, `layers`, `drain_parameter_name`, `health_path`, `api_key_value`,
`allowed_origin`, throttling, quota, cache and domain settings, `alert_topic_arn`, `hardening`
(keys for the log groups and environments, a concurrency limit), `tags`.
Outputs: `invoke_url` and `health_url` (this region's own execute-api endpoint, which Route 53
checks), `public_url` (the custom domain when there is one), `function_name`, `rest_api_id`,
`stage_name`, `drain_parameter_name`, `regional_domain_name` / `regional_zone_id` (None without a
domain), `certificate_validation_record` (the validation record when this region owns it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from ._blocks.certificate import dns_validated_certificate
from ._blocks.log_group import log_group
from .hardening import Hardening
from .lambda_function import LambdaFunction, LambdaFunctionArgs
from .openapi import PrivateIntegration, Route, cached_method_paths, openapi_document
from .policies import allow, assume_role_policy

STAGE_NAME = "v1"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "latency": "$context.responseLatency",
        "apiKeyId": "$context.identity.apiKeyId",
        "xrayTraceId": "$context.xrayTraceId",
        "errorMessage": "$context.error.message",
    }
)


@dataclass(frozen=True, kw_only=True)
class ApiDomain:
    host: str  # api.example.com
    zone_name: str  # example.com
    owns_validation_record: bool  # exactly one region creates the shared ACM validation record
    validation_record: pulumi.Resource | None = None  # the owner's record, for the other regions


@dataclass(frozen=True)
class PrivateBackend:
    """Routes served by a load balancer in the region's VPC (ContainerService), through a VPC link V2."""

    vpc_link_id: pulumi.Input[str]
    load_balancer_arn: pulumi.Input[str]
    host: str  # the integration URI's host: the Host header, and the name the backend's certificate proves
    routes: tuple[str, ...]  # "GET /posts", ...

    @property
    def method_paths(self) -> frozenset[str]:
        return frozenset(f"{path.lstrip('/')}/{method}" for method, path in (r.split(" ", 1) for r in self.routes))


@dataclass(frozen=True, kw_only=True)
class ServerlessApiArgs:
    code: pulumi.Archive  # the API function's code (the caller packages it)
    handler: str  # module.function inside `code`
    routes: Sequence[Route]
    schemas: Mapping[str, Mapping[str, Any]]  # request models named by the routes' `body`
    drain_parameter_name: str
    api_key_value: pulumi.Input[str]
    allowed_origin: pulumi.Input[str] | None  # the site's origin; None: no CORS, no browser access
    alert_topic_arn: pulumi.Input[str] | None  # None: no alarms
    log_retention_days: int
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statements: Sequence[Mapping[str, Any]] = ()  # what the function may do beyond logs, tracing, drain flag
    layers: Sequence[pulumi.Input[str]] = ()
    health_path: str = "/health"
    # A separate function for the health route: spikes of API traffic that exhaust the API
    # function's concurrency do not then mark the region unhealthy (optionally with reserved
    # concurrency; a new account's low concurrency quota may not allow it: see the preflight).
    health_handler: str | None = None  # module.function inside `code`; None: the API function answers
    health_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    health_statements: Sequence[Mapping[str, Any]] = ()
    health_reserved_concurrency: int | None = None
    # Route 53 checks every region from several places; their requests must never meet the
    # stage's throttle, which a traffic spike can exhaust.
    health_throttle_rate_limit: int = 50
    # The API Gateway account setting (CloudWatch role for execution logging) is one per account
    # and region, shared by every API there. Managed: this component sets it, and keeps the role
    # and the setting when destroyed (another stack's logging may rely on them). Existing: set
    # already (sdr preflight --stack <stack> says whether it is).
    manage_account_logging_role: bool = True
    # A WAFv2 web ACL (scope REGIONAL, this region) attached to the stage; None for none.
    web_acl_arn: pulumi.Input[str] | None = None
    timeout: int = 10
    memory_size: int = 512
    throttle_rate_limit: int = 100
    throttle_burst_limit: int = 200
    admin_quota_per_day: int = 1000
    admin_throttle_rate_limit: int = 5
    cache_enabled: bool = False
    cache_ttl_seconds: int = 60
    domain: ApiDomain | None = None
    latency_alarm_ms: int = 2000
    # Keys for the functions' logs and environments and a concurrency limit (components/hardening.py);
    # the log key also encrypts the stage's access and execution logs.
    hardening: Hardening = field(default_factory=Hardening)
    # Some routes to containers instead of the function (the health route never: Route 53 checks it).
    private_backend: PrivateBackend | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if self.private_backend is not None:
            known = {r.method_path for r in self.routes}
            unknown = sorted(self.private_backend.method_paths - known)
            if unknown or f"{self.health_path.lstrip('/')}/GET" in self.private_backend.method_paths:
                raise ValueError(
                    f"ServerlessApiArgs.private_backend: routes {unknown or [self.health_path]} are not API routes it may serve"
                )
        if self.admin_throttle_rate_limit > self.throttle_rate_limit:
            raise ValueError("ServerlessApiArgs.admin_throttle_rate_limit: must not exceed throttle_rate_limit")
        if not 0 <= self.cache_ttl_seconds <= 3600:
            raise ValueError(f"ServerlessApiArgs.cache_ttl_seconds: {self.cache_ttl_seconds} is outside 0-3600")
        if not self.drain_parameter_name.startswith("/"):
            raise ValueError(
                f"ServerlessApiArgs.drain_parameter_name: {self.drain_parameter_name!r} must be a path starting with /"
            )
        if self.domain and not self.domain.host.endswith("." + self.domain.zone_name):
            raise ValueError(f"ServerlessApiArgs.domain: host {self.domain.host} is not inside zone {self.domain.zone_name}")
        if self.health_reserved_concurrency is not None and self.health_handler is None:
            raise ValueError("ServerlessApiArgs.health_reserved_concurrency: only with a health_handler")
        if not any(r.path == self.health_path and r.method == "get" for r in self.routes):
            raise ValueError(f"ServerlessApiArgs.health_path: no GET route {self.health_path} among the routes")
        self.hardening.validate("ServerlessApiArgs")
        if self.domain and not self.domain.owns_validation_record and self.domain.validation_record is None:
            raise ValueError("ServerlessApiArgs.domain: a region that does not own the validation record must wait for it")


class ServerlessApi(pulumi.ComponentResource):
    invoke_url: pulumi.Output[str]
    public_url: pulumi.Output[str]
    health_url: pulumi.Output[str]
    function_name: pulumi.Output[str]
    rest_api_id: pulumi.Output[str]
    rest_api_name: pulumi.Output[str]
    stage_name: str
    drain_parameter_name: pulumi.Output[str]
    regional_domain_name: pulumi.Output[str] | None
    regional_zone_id: pulumi.Output[str] | None
    certificate_validation_record: pulumi.Resource | None

    def __init__(self, name: str, args: ServerlessApiArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:ServerlessApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        drain = aws.ssm.Parameter(
            f"{name}-drain",
            name=args.drain_parameter_name,
            type="String",
            value="false",
            description="Set to true to make /health answer 503 and take this region out of DNS",
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["value"])),
        )

        # The health function is the API function's twin: same code, layers, alarms, logs and
        # hardening; its own handler, environment, grants, size and reservation.
        drain_grant = allow(["ssm:GetParameter"], [drain.arn], "DrainFlag")
        function_args = LambdaFunctionArgs(
            handler=args.handler,
            code=args.code,
            layers=list(args.layers),
            alert_topic_arn=args.alert_topic_arn,
            log_retention_days=args.log_retention_days,
            timeout=args.timeout,
            memory_size=args.memory_size,
            environment={
                **args.environment,
                "DRAIN_PARAMETER": drain.name,
                "ALLOWED_ORIGIN": args.allowed_origin or "",
            },
            statements=[*args.statements, drain_grant],
            hardening=args.hardening,
            # API Gateway answers a throttled invocation with a 5xx, which the 5xx-rate alarm
            # below counts (and a throttled health function fails its Route 53 health check).
            throttle_alarm=False,
            tags=tags,
        )
        function = LambdaFunction(f"{name}-fn", function_args, opts=child)

        health_route = f"{args.health_path.lstrip('/')}/GET"
        health_function = None
        if args.health_handler:
            health_function = LambdaFunction(
                f"{name}-health",
                dataclasses.replace(
                    function_args,
                    handler=args.health_handler,
                    timeout=5,
                    memory_size=256,
                    reserved_concurrency=args.health_reserved_concurrency,
                    environment={
                        **args.health_environment,
                        "DRAIN_PARAMETER": drain.name,
                        "ALLOWED_ORIGIN": args.allowed_origin or "",
                    },
                    statements=[*args.health_statements, drain_grant],
                ),
                opts=child,
            )

        backend = args.private_backend
        document = pulumi.Output.all(
            invoke_arn=_invoke_arn(region, function.arn),
            health_arn=_invoke_arn(region, health_function.arn) if health_function else "",
            origin=pulumi.Output.from_input(args.allowed_origin or ""),
            link=backend.vpc_link_id if backend else "",
            balancer=backend.load_balancer_arn if backend else "",
        ).apply(
            lambda v: json.dumps(
                openapi_document(
                    title=name,
                    routes=args.routes,
                    schemas=args.schemas,
                    invoke_arn=v["invoke_arn"],
                    route_invoke_arns={health_route: v["health_arn"]} if v["health_arn"] else {},
                    allowed_origin=v["origin"] or None,
                    timeout_ms=args.timeout * 1000,
                    private=PrivateIntegration(v["link"], v["balancer"], backend.host, backend.method_paths) if backend else None,
                ),
                sort_keys=True,
            )
        )
        rest_api = aws.apigateway.RestApi(
            f"{name}-rest",
            body=document,
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            api_key_source="HEADER",
            # Kept on: Route 53 checks each region through its own execute-api hostname, which
            # the shared custom domain cannot address (it resolves to whichever region is nearest).
            disable_execute_api_endpoint=False,
            tags=tags,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            function=function.function_name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(rest_api.execution_arn, "/*/*/*"),
            opts=child,
        )
        if health_function is not None:
            aws.lambda_.Permission(
                f"{name}-health-invoke",
                function=health_function.function_name,
                action="lambda:InvokeFunction",
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(rest_api.execution_arn, "/*/GET", args.health_path),
                opts=child,
            )
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=rest_api.id,
            triggers={"document": document.apply(lambda d: hashlib.sha256(d.encode()).hexdigest())},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(replace_on_changes=["triggers"])),
        )
        stage_waits_for: list[pulumi.Resource] = []
        if args.manage_account_logging_role:
            # Execution logging needs the region's API Gateway account setting to name a CloudWatch
            # role. Kept on destroy: other stacks in the account and region log through it too.
            kept = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True))
            logging_role = aws.iam.Role(
                f"{name}-logging-role", assume_role_policy=assume_role_policy("apigateway.amazonaws.com"), tags=tags, opts=kept
            )
            attachment = aws.iam.RolePolicyAttachment(
                f"{name}-logging-role-policy",
                role=logging_role.name,
                policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
                opts=kept,
            )
            stage_waits_for.append(
                aws.apigateway.Account(
                    f"{name}-account",
                    cloudwatch_role_arn=logging_role.arn,
                    opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[attachment])),
                )
            )
        # API Gateway writes execution logs to this group, creating it itself (without retention,
        # outliving a destroy) unless it exists first: created here, before logging is switched on.
        stage_waits_for.append(
            log_group(
                f"{name}-execution-logs",
                args.log_retention_days,
                args.hardening.log_key_arn,
                tags,
                child,
                group_name=pulumi.Output.concat("API-Gateway-Execution-Logs_", rest_api.id, "/", STAGE_NAME),
            )
        )
        access_logs = log_group(f"{name}-access-logs", args.log_retention_days, args.hardening.log_key_arn, tags, child)
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=rest_api.id,
            deployment=deployment.id,
            stage_name=STAGE_NAME,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            cache_cluster_enabled=args.cache_enabled,
            cache_cluster_size="0.5" if args.cache_enabled else None,
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=stage_waits_for)),
        )
        if args.web_acl_arn is not None:
            aws.wafv2.WebAclAssociation(f"{name}-waf", resource_arn=stage.arn, web_acl_arn=args.web_acl_arn, opts=child)

        def method_settings(path: str, caching: bool, rate_limit: int | None = None) -> aws.apigateway.MethodSettings:
            # An override replaces the stage-wide settings for its method, so it repeats them.
            return aws.apigateway.MethodSettings(
                f"{name}-settings-{path.replace('/', '-').replace('{', '').replace('}', '').replace('*', 'all').lower()}",
                rest_api=rest_api.id,
                stage_name=stage.stage_name,
                method_path=path,
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    metrics_enabled=True,
                    logging_level="ERROR",
                    data_trace_enabled=False,
                    throttling_rate_limit=rate_limit or args.throttle_rate_limit,
                    throttling_burst_limit=2 * rate_limit if rate_limit else args.throttle_burst_limit,
                    caching_enabled=caching,
                    cache_data_encrypted=True if caching else None,
                    cache_ttl_in_seconds=args.cache_ttl_seconds if caching else None,
                    require_authorization_for_cache_control=True if caching else None,
                    unauthorized_cache_control_header_strategy="SUCCEED_WITH_RESPONSE_HEADER" if caching else None,
                ),
                opts=child,
            )

        method_settings("*/*", caching=False)
        method_settings(health_route, caching=False, rate_limit=args.health_throttle_rate_limit)
        if args.cache_enabled:
            for path in cached_method_paths(args.routes):
                method_settings(path, caching=True)

        key = aws.apigateway.ApiKey(
            f"{name}-key",
            description="Admin key for blog writes; the same value in every region",
            value=args.api_key_value,
            enabled=True,
            tags=tags,
            opts=child,
        )
        plan = aws.apigateway.UsagePlan(
            f"{name}-admin-plan",
            description="Blog administration: writes to /posts",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=rest_api.id, stage=stage.stage_name)],
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=args.admin_quota_per_day, period="DAY"),
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=args.admin_throttle_rate_limit, burst_limit=args.admin_throttle_rate_limit * 2
            ),
            tags=tags,
            opts=child,
        )
        aws.apigateway.UsagePlanKey(
            f"{name}-admin-plan-key",
            key_id=key.id,
            key_type="API_KEY",
            usage_plan_id=plan.id,
            # The provider returns the key's value as a plain output: keep it encrypted in the state.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(additional_secret_outputs=["value"])),
        )

        self.regional_domain_name = None
        self.regional_zone_id = None
        self.certificate_validation_record = None
        invoke_url = pulumi.Output.concat("https://", rest_api.id, ".execute-api.", region, ".amazonaws.com/", stage.stage_name)
        public_url = invoke_url
        if args.domain:
            zone = aws.route53.get_zone_output(
                name=args.domain.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            certificate = dns_validated_certificate(
                f"{name}-domain",
                domain_name=args.domain.host,
                zone_id=zone.zone_id,
                parent=self,
                create_record=args.domain.owns_validation_record,
                record_dependency=args.domain.validation_record,
                # RSA: what every API Gateway domain and every client accepts.
                key_algorithm="RSA_2048",
                tags=tags,
            )
            domain = aws.apigateway.DomainName(
                f"{name}-domain",
                domain_name=args.domain.host,
                regional_certificate_arn=certificate.arn,
                # Dual-stack: FailoverDns publishes AAAA aliases to this domain too.
                endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
                    types="REGIONAL", ip_address_type="dualstack"
                ),
                security_policy="TLS_1_2",
                tags=tags,
                opts=child,
            )
            aws.apigateway.BasePathMapping(
                f"{name}-mapping", rest_api=rest_api.id, stage_name=stage.stage_name, domain_name=domain.domain_name, opts=child
            )
            self.regional_domain_name = domain.regional_domain_name
            self.regional_zone_id = domain.regional_zone_id
            self.certificate_validation_record = certificate.record
            public_url = pulumi.Output.from_input(f"https://{args.domain.host}")

        api_dimensions = {"ApiName": rest_api.name, "Stage": stage.stage_name}
        metric_alarm(
            f"{name}-5xx-rate",
            description=f"{name}: more than 5 % of requests answered 5xx",
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions=api_dimensions,
            statistic="Average",  # 5XXError is 0/1 per request: its average is the rate
            datapoints_to_alarm=3,
            threshold=0.05,
            topic_arn=args.alert_topic_arn,
            tags=tags,
            opts=child,
        )
        metric_alarm(
            f"{name}-p99-latency",
            description=f"{name}: p99 latency above {args.latency_alarm_ms} ms",
            namespace="AWS/ApiGateway",
            metric="Latency",
            dimensions=api_dimensions,
            extended_statistic="p99",
            datapoints_to_alarm=3,
            threshold=args.latency_alarm_ms,
            topic_arn=args.alert_topic_arn,
            tags=tags,
            opts=child,
        )

        self.stage_name = STAGE_NAME
        self.invoke_url = invoke_url
        self.public_url = public_url
        self.health_url = pulumi.Output.concat(invoke_url, args.health_path)
        self.function_name = function.function_name
        self.rest_api_id = rest_api.id
        self.rest_api_name = rest_api.name
        self.drain_parameter_name = drain.name
        self.register_outputs(
            {
                "invoke_url": self.invoke_url,
                "health_url": self.health_url,
                "public_url": self.public_url,
                "function_name": self.function_name,
                "rest_api_id": self.rest_api_id,
                "drain_parameter_name": self.drain_parameter_name,
                "regional_domain_name": self.regional_domain_name,
                "regional_zone_id": self.regional_zone_id,
            }
        )


def _invoke_arn(region: pulumi.Input[str], function_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:aws:apigateway:", region, ":lambda:path/2015-03-31/functions/", function_arn, "/invocations")
