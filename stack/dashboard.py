"""One CloudWatch dashboard for every region: API, functions, queues, streams, replication, DNS.

A dashboard lives in one region but each widget names the region its metrics come from, so the
operator sees both sides of a failover on one page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class RegionMetrics:
    api_name: pulumi.Output[str]
    stage: str
    functions: Sequence[pulumi.Output[str]]
    dlqs: Sequence[pulumi.Output[str]]
    stream_functions: Sequence[pulumi.Output[str]]


def _widget(title: str, region: str, metrics: list, stat: str = "Sum", y: int = 0, x: int = 0, width: int = 12) -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": 6,
        "properties": {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": 60, "view": "timeSeries"},
    }


def dashboard_body(regions: Mapping[str, Mapping], table_name: str, health_checks: Mapping[str, str], global_region: str) -> str:
    """`regions`: resolved names per region (api_name, stage, functions, dlqs, stream_functions)."""
    widgets: list[dict] = []
    y = 0
    for region, m in regions.items():
        api = ["AWS/ApiGateway"]
        widgets += [
            _widget(
                f"{region} API requests and errors",
                region,
                [
                    [*api, "Count", "ApiName", m["api_name"], "Stage", m["stage"]],
                    [*api, "4XXError", "ApiName", m["api_name"], "Stage", m["stage"]],
                    [*api, "5XXError", "ApiName", m["api_name"], "Stage", m["stage"]],
                ],
                y=y,
                x=0,
                width=8,
            ),
            _widget(
                f"{region} API latency p99",
                region,
                [[*api, "Latency", "ApiName", m["api_name"], "Stage", m["stage"]]],
                "p99",
                y=y,
                x=8,
                width=8,
            ),
            _widget(
                f"{region} Lambda errors and throttles",
                region,
                [
                    *[["AWS/Lambda", "Errors", "FunctionName", f] for f in m["functions"]],
                    *[["AWS/Lambda", "Throttles", "FunctionName", f] for f in m["functions"]],
                ],
                y=y,
                x=16,
                width=8,
            ),
            _widget(
                f"{region} DLQ depth",
                region,
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in m["dlqs"]],
                "Maximum",
                y=y + 6,
                x=0,
                width=8,
            ),
            _widget(
                f"{region} stream iterator age",
                region,
                [["AWS/Lambda", "IteratorAge", "FunctionName", f] for f in m["stream_functions"]],
                "Maximum",
                y=y + 6,
                x=8,
                width=8,
            ),
            _widget(
                f"{region} table replication latency",
                region,
                [
                    ["AWS/DynamoDB", "ReplicationLatency", "TableName", table_name, "ReceivingRegion", other]
                    for other in regions
                    if other != region
                ]
                or [["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", table_name, "Operation", "GetItem"]],
                "Average",
                y=y + 6,
                x=16,
                width=8,
            ),
        ]
        y += 12
    if health_checks:
        widgets.append(
            _widget(
                "Route 53 health checks (1 = healthy)",
                global_region,
                [
                    ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", check_id, {"label": region}]
                    for region, check_id in health_checks.items()
                ],
                "Minimum",
                y=y,
                x=0,
                width=24,
            )
        )
    return json.dumps({"widgets": widgets}, sort_keys=True)


def build_dashboard(
    name: str,
    metrics: Mapping[str, RegionMetrics],
    table_name: pulumi.Output[str],
    health_checks: Mapping[str, pulumi.Output[str]],
    global_region: str,
    provider: aws.Provider,
) -> aws.cloudwatch.Dashboard:
    resolved = pulumi.Output.all(
        regions={
            r: pulumi.Output.all(
                api_name=m.api_name,
                stage=m.stage,
                functions=list(m.functions),
                dlqs=list(m.dlqs),
                stream_functions=list(m.stream_functions),
            )
            for r, m in metrics.items()
        },
        table=table_name,
        checks=dict(health_checks),
    )
    return aws.cloudwatch.Dashboard(
        name,
        dashboard_name=f"{name}-{pulumi.get_project()}-{pulumi.get_stack()}",
        dashboard_body=resolved.apply(lambda v: dashboard_body(v["regions"], v["table"], v["checks"], global_region)),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def operations_dashboard(cfg, providers, apis: Mapping, paths: Mapping, table_name, health_check_ids: Mapping) -> None:
    """The stack's one dashboard (the `dashboard` choice): each region's API, functions, DLQs and
    streams, the table, and the health checks."""
    from stack.regions import GLOBAL_SERVICES_REGION

    if not cfg.dashboard:
        return
    build_dashboard(
        "operations",
        {
            r: RegionMetrics(
                api_name=apis[r].rest_api_name,
                stage=apis[r].stage_name,
                functions=[apis[r].function_name, *(p.function_name for p in paths[r].pipelines)],
                dlqs=[p.dlq_name for p in paths[r].pipelines],
                stream_functions=[p.function_name for p in paths[r].pipelines if p.queue_arn is None],
            )
            for r in cfg.regions
        },
        table_name,
        health_check_ids,
        GLOBAL_SERVICES_REGION,
        providers.global_services,
    )
