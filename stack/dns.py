"""The API's name: Route 53 latency or failover records over each region's health-checked API
(FailoverDns), when the stack has a domain."""

from __future__ import annotations

import pulumi

from components import AlertTopic, AlertTopicArgs, FailoverDns, FailoverDnsArgs, RegionalEndpoint, ServerlessApi
from stack.config import StackConfig
from stack.consumers import Region
from stack.providers import Providers
from stack.regions import GLOBAL_SERVICES_REGION


def api_dns(
    cfg: StackConfig, providers: Providers, regions: dict[str, Region], apis: dict[str, ServerlessApi]
) -> FailoverDns | None:
    if not cfg.domain:
        return None
    global_alerts = regions[GLOBAL_SERVICES_REGION].alerts if GLOBAL_SERVICES_REGION in regions else None
    if global_alerts is None and cfg.alarms:
        # Health-check metrics exist only in us-east-1: their alarms need a topic there.
        global_alerts = AlertTopic(
            f"alerts-{GLOBAL_SERVICES_REGION}",
            AlertTopicArgs(email=cfg.alert_email),
            opts=pulumi.ResourceOptions(provider=providers.global_services),
        )
    return FailoverDns(
        "api-dns",
        FailoverDnsArgs(
            record_name=cfg.api_host,
            zone_name=cfg.domain,
            routing=cfg.routing,
            endpoints={
                r: RegionalEndpoint(
                    health_host=api.invoke_url.apply(lambda url: url.split("/")[2]),
                    health_path=f"/{api.stage_name}/health",
                    alias_name=api.regional_domain_name,
                    alias_zone_id=api.regional_zone_id,
                )
                for r, api in apis.items()
            },
            interval=cfg.health_check_interval,
            failure_threshold=cfg.health_check_failure_threshold,
            evacuated_regions=cfg.evacuated_regions,
            alert_topic_arn=global_alerts.arn if global_alerts is not None else None,
            measure_latency=cfg.health_check_latency_graphs,
        ),
        opts=pulumi.ResourceOptions(provider=providers.global_services),
    )
