"""The stack's outputs: what the operator command (`sdr`), the site and people read of a deployed
stack. Names are part of the contract: docs/cli.md and the runbook refer to them."""

from __future__ import annotations

import pulumi

from components import (
    ApiEdge,
    AuroraGlobal,
    Backups,
    ContainerService,
    FailoverDns,
    GlobalTable,
    LeaseVoters,
    ReplicatedBuckets,
    ServerlessApi,
    StaticSite,
)
from stack import api_contract
from stack.budget import compute_budget
from stack.config import StackConfig
from stack.consumers import Region
from stack.paid_content import PremiumMedia
from stack.regional_paths import RegionalPaths


def export_outputs(
    cfg: StackConfig,
    *,
    table: GlobalTable,
    site: StaticSite,
    media: ReplicatedBuckets,
    voters: LeaseVoters | None,
    regions: dict[str, Region],
    paths: dict[str, RegionalPaths],
    apis: dict[str, ServerlessApi],
    dns: FailoverDns | None,
    backups: Backups | None,
    admin_key: pulumi.Input[str],
    api_edge: ApiEdge | None = None,
    containers: dict[str, ContainerService] | None = None,
    relational: AuroraGlobal | None = None,
    premium: PremiumMedia | None = None,
) -> None:
    if backups is not None:
        pulumi.export("backupVaults", backups.vault_names)
        pulumi.export("backupRoleArn", backups.role_arn)
    pulumi.export("siteUrl", site.url)
    pulumi.export("siteBuckets", site.bucket_names)
    pulumi.export("distributionDomain", site.distribution_domain)
    pulumi.export("regions", list(cfg.regions))
    pulumi.export("homeRegion", cfg.home_region)
    pulumi.export("writeMode", cfg.write_mode)
    if voters is not None:
        pulumi.export("writeFailover", cfg.write_failover)
        pulumi.export("leaseVoterTables", voters.table_names)
        pulumi.export("leaseSeconds", cfg.lease_seconds)
    pulumi.export("tableName", table.name)
    pulumi.export("tableArns", table.arns)
    pulumi.export("tableStreamArns", table.stream_arns)
    pulumi.export("idempotencyTableNames", {r: reg.idempotency.name for r, reg in regions.items()})
    pulumi.export("mediaBuckets", media.names)
    pulumi.export("apiUrls", {r: a.invoke_url for r, a in apis.items()})
    pulumi.export("healthUrls", {r: a.health_url for r, a in apis.items()})
    pulumi.export("apiPublicUrl", apis[cfg.home_region].public_url)
    if api_edge is not None:
        # The API's reads for any client: cached, and failing over per request at CloudFront.
        pulumi.export("apiEdgeUrl", api_edge.url)
        pulumi.export("apiEdgeDistributionId", api_edge.distribution_id)
    # The OpenAPI document to generate a client from (docs/api.md): public URL, then each region's.
    urls = [apis[cfg.home_region].public_url, *(apis[r].invoke_url for r in cfg.regions)]
    pulumi.export(
        "apiDocument",
        pulumi.Output.all(*urls).apply(lambda u: api_contract.published_document(list(dict.fromkeys(u)), cfg.max_upload_bytes)),
    )
    pulumi.export("drainParameters", {r: a.drain_parameter_name for r, a in apis.items()})
    # Where `sdr writes redrive` sends a dead-lettered write back to.
    pulumi.export("writeRetryTopics", {r: p.write_retry.topic_arn for r, p in paths.items()})
    if dns is not None:
        pulumi.export("apiRecordName", dns.fqdn)
        pulumi.export("zoneName", cfg.domain)
        pulumi.export("healthCheckIds", dns.health_check_ids)
        pulumi.export("apiRegionalTargets", {r: a.regional_domain_name for r, a in apis.items()})
    pulumi.export("adminApiKey", pulumi.Output.secret(admin_key))
    pulumi.export("drBudget", compute_budget(cfg).to_dict())
    if relational is not None:
        # What a Data API call names in each region: the cluster, and the credentials' secret there.
        pulumi.export(
            "relationalDataApi",
            {r: {"resourceArn": arn, "secretArn": relational.secret_arns[r]} for r, arn in relational.cluster_arns.items()},
        )
        pulumi.export("relationalGlobalCluster", relational.global_cluster_id)
    if premium is not None:
        # What the drill checks: the pool in its region, and each region's replica of the signing key.
        pulumi.export(
            "paidContent",
            {
                "userPoolId": premium.content.user_pool_id,
                "poolRegion": cfg.home_region,
                "keyGroupId": premium.content.key_group_id,
                "signingKeySecrets": premium.content.signing_key_arns,
                "premiumBuckets": premium.buckets.names,
            },
        )
    if containers:
        pulumi.export(
            "containerServices",
            {
                r: {"cluster": c.cluster_name, "service": c.service_name, "targetGroupArn": c.target_group_arn}
                for r, c in containers.items()
            },
        )
