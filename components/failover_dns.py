"""FailoverDns: the API's public name answered by whichever regions are healthy.

Creates (global: Route 53; the provider given is us-east-1, where health-check metrics live)
- `{name}-check-<region>`: an HTTPS health check of that region's own endpoint and deep health
  path (`/v1/health` on its execute-api host, which the shared custom domain cannot address),
  with the interval and threshold given (always explicit: an omitted interval forces
  replacement), latency measurement, SNI, and at least three checker regions. An evacuated
  region's check is *inverted*: healthy answers count as failures, so Route 53 takes the region
  out without any record being edited (data plane only);
- `{name}-a-<region>` and `{name}-aaaa-<region>`: alias records to the region's API custom domain,
  with latency routing (active-active) or PRIMARY/SECONDARY failover routing (active-passive,
  first region primary), each tied to its health check, `evaluate_target_health` on;
- `{name}-alarm-<region>`: an alarm on the check's HealthCheckStatus to `alert_topic_arn`.

Inputs (`FailoverDnsArgs`): `record_name`, `zone_name`, `routing`, `endpoints` (per region:
health host and path, alias target name and zone), `interval`, `failure_threshold`,
`evacuated_regions`, `checker_regions`, `alert_topic_arn`.
Outputs: `fqdn`, `health_check_ids` (`{region: Output[str]}`), `detection_seconds`, `rto_seconds`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from .failover_math import api_failover_seconds, detection_seconds

# Route 53 needs at least three checker regions; these are spread over three continents.
DEFAULT_CHECKER_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1")


@dataclass(frozen=True, kw_only=True)
class RegionalEndpoint:
    health_host: pulumi.Input[str]  # <api-id>.execute-api.<region>.amazonaws.com
    health_path: str  # /v1/health
    alias_name: pulumi.Input[str]  # the regional custom domain's target (d-xxx.execute-api...)
    alias_zone_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class FailoverDnsArgs:
    record_name: str
    zone_name: str
    endpoints: Mapping[str, RegionalEndpoint]  # ordered: the first is primary for failover routing
    alert_topic_arn: pulumi.Input[str] | None  # None: no alarms
    routing: Literal["latency", "failover"] = "latency"
    interval: int = 30
    failure_threshold: int = 3
    evacuated_regions: Sequence[str] = ()
    checker_regions: Sequence[str] = DEFAULT_CHECKER_REGIONS
    # Route 53 latency graphs: an optional health-check feature billed per check ($1/month each).
    measure_latency: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        regions = list(self.endpoints)
        if not regions:
            raise ValueError("FailoverDnsArgs.endpoints: at least one region is required")
        if self.routing not in ("latency", "failover"):
            raise ValueError(f"FailoverDnsArgs.routing: {self.routing!r} is not one of latency, failover")
        if self.routing == "failover" and len(regions) != 2:
            raise ValueError(
                f"FailoverDnsArgs.routing: failover needs exactly 2 regions (PRIMARY, SECONDARY), got {len(regions)}"
            )
        if self.interval not in (10, 30):
            raise ValueError(f"FailoverDnsArgs.interval: {self.interval} is not 10 or 30")
        if not 1 <= self.failure_threshold <= 10:
            raise ValueError(f"FailoverDnsArgs.failure_threshold: {self.failure_threshold} is outside 1-10")
        strays = [r for r in self.evacuated_regions if r not in regions]
        if strays:
            raise ValueError(f"FailoverDnsArgs.evacuated_regions: {', '.join(strays)} not among the endpoints")
        if set(self.evacuated_regions) >= set(regions):
            raise ValueError("FailoverDnsArgs.evacuated_regions: evacuating every region makes Route 53 answer with all of them")
        if len(set(self.checker_regions)) < 3:
            raise ValueError("FailoverDnsArgs.checker_regions: Route 53 needs at least 3")
        if not self.record_name.endswith("." + self.zone_name):
            raise ValueError(f"FailoverDnsArgs.record_name: {self.record_name} is not inside {self.zone_name}")


class FailoverDns(pulumi.ComponentResource):
    fqdn: str
    health_check_ids: dict[str, pulumi.Output[str]]
    detection_seconds: int
    rto_seconds: int

    def __init__(self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:FailoverDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone = aws.route53.get_zone_output(name=args.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self))
        regions = list(args.endpoints)
        self.health_check_ids = {}

        for position, (region, endpoint) in enumerate(args.endpoints.items()):
            check = aws.route53.HealthCheck(
                f"{name}-check-{region}",
                type="HTTPS",
                fqdn=endpoint.health_host,
                port=443,
                resource_path=endpoint.health_path,
                enable_sni=True,
                request_interval=args.interval,
                failure_threshold=args.failure_threshold,
                measure_latency=args.measure_latency,
                regions=list(args.checker_regions),
                invert_healthcheck=region in args.evacuated_regions,
                tags={**args.tags, "Name": f"{name}-{region}", "region": region},
                opts=child,
            )
            self.health_check_ids[region] = check.id

            for record_type in ("A", "AAAA"):
                routing: dict = {}
                if args.routing == "latency":
                    routing["latency_routing_policies"] = [aws.route53.RecordLatencyRoutingPolicyArgs(region=region)]
                else:
                    routing["failover_routing_policies"] = [
                        aws.route53.RecordFailoverRoutingPolicyArgs(type="PRIMARY" if position == 0 else "SECONDARY")
                    ]
                aws.route53.Record(
                    f"{name}-{record_type.lower()}-{region}",
                    zone_id=zone.zone_id,
                    name=args.record_name,
                    type=record_type,
                    set_identifier=region,
                    health_check_id=check.id,
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=endpoint.alias_name, zone_id=endpoint.alias_zone_id, evaluate_target_health=True
                        )
                    ],
                    **routing,
                    opts=child,
                )

            metric_alarm(
                f"{name}-alarm-{region}",
                description=f"{args.record_name}: health check of {region} failing"
                + (" (inverted: region evacuated by config)" if region in args.evacuated_regions else ""),
                namespace="AWS/Route53",
                metric="HealthCheckStatus",
                dimensions={"HealthCheckId": check.id},
                statistic="Minimum",
                evaluation_periods=1,
                datapoints_to_alarm=1,
                threshold=1,
                comparison="LessThanThreshold",
                # A check that stops reporting is as bad as one that fails.
                missing_data="breaching",
                topic_arn=args.alert_topic_arn,
                tags=args.tags,
                opts=child,
            )

        self.fqdn = args.record_name
        self.detection_seconds = detection_seconds(args.interval, args.failure_threshold)
        self.rto_seconds = api_failover_seconds(args.interval, args.failure_threshold)
        self.register_outputs(
            {
                "fqdn": self.fqdn,
                "health_check_ids": self.health_check_ids,
                "detection_seconds": self.detection_seconds,
                "rto_seconds": self.rto_seconds,
                "regions": regions,
            }
        )
