"""One explicit aws.Provider per region, plus the us-east-1 one for what AWS pins there.

Names are `aws-<region>` and must stay stable: a renamed provider replaces every resource under
it. The default provider is disabled in Pulumi.yaml, so any resource that misses `provider=`
fails at preview rather than landing in an arbitrary region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stack.config import StackConfig
from stack.regions import GLOBAL_SERVICES_REGION


@dataclass(frozen=True)
class Providers:
    regional: dict[str, aws.Provider]
    # us-east-1: CloudFront certificates, Route 53 health-check alarms. The same object as
    # regional["us-east-1"] when that region serves traffic, so no second provider exists.
    global_services: aws.Provider
    # Every region holding a write-lease voter: the serving ones and the witness (same objects).
    voters: dict[str, aws.Provider]


def base_tags(cfg: StackConfig) -> dict[str, str]:
    tags = {"project": cfg.project, "stack": cfg.stack, "managed-by": "pulumi"}
    if cfg.cost_center:
        tags["cost-center"] = cfg.cost_center
    return tags


def _provider(region: str, tags: Mapping[str, str]) -> aws.Provider:
    # No `region` tag: a global table's replicas copy the home table's tags (propagate_tags), so
    # every replica would claim the home region. Billing and the console know the region anyway.
    return aws.Provider(f"aws-{region}", region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)))


def build_providers(cfg: StackConfig) -> Providers:
    tags = base_tags(cfg)
    regional = {region: _provider(region, tags) for region in cfg.regions}
    global_services = regional.get(GLOBAL_SERVICES_REGION) or _provider(GLOBAL_SERVICES_REGION, tags)
    known = {**regional, GLOBAL_SERVICES_REGION: global_services}
    voters = {region: known.get(region) or _provider(region, tags) for region in cfg.lease_voter_regions}
    return Providers(regional=regional, global_services=global_services, voters=voters)


def in_region(provider: aws.Provider, **kwargs) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=provider, **kwargs)
