"""The one shape of a CloudWatch alarm in this program: 1-minute periods, notify on alarm and OK.

Every component's alarms go to its region's alert topic (us-east-1 for Route 53 health checks).
Missing data is not breaching unless the caller says so: a quiet queue is a healthy queue.
Without a topic (`topic_arn=None`: the stack's `alarms` choice is off) no alarm is created: an
alarm nobody is told about only costs money ($0.10 per alarm metric and month).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def metric_alarm(
    name: str,
    *,
    description: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    threshold: float,
    topic_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
    statistic: str | None = "Maximum",
    extended_statistic: str | None = None,
    comparison: str = "GreaterThanThreshold",
    evaluation_periods: int = 5,
    datapoints_to_alarm: int = 2,
    missing_data: str = "notBreaching",
    tags: Mapping[str, str] | None = None,
) -> aws.cloudwatch.MetricAlarm | None:
    if topic_arn is None:
        return None
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dict(dimensions),
        statistic=None if extended_statistic else statistic,
        extended_statistic=extended_statistic,
        period=60,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        threshold=threshold,
        comparison_operator=comparison,
        treat_missing_data=missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=dict(tags or {}),
        opts=opts,
    )
