"""The container backend (containerBackend): a ContainerService in every region with an API, and
the image replicated from the home region's registry to every other region's.

The tasks run the API's own code (functions/container/app.py) with the API function's environment
and grants, so a route answers the same from a function or a container. Pilot-light starts tasks
in the home region only; `sdr drill scale-containers` scales a standby.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import ContainerService, ContainerServiceArgs, ReplicatedBuckets, allow
from stack import api
from stack.api import API_TIMEOUT_SECONDS, SigningKey
from stack.config import StackConfig
from stack.consumers import Region
from stack.regional_paths import RegionalPaths
from stack.table_access import TableAccess

# What the application calls besides ECR and logs (private-endpoints): the drain flag and signing
# key (SSM), the write-retry topic (SNS) and the page-view transport's service. DynamoDB and S3
# go through free gateway endpoints.
_TRANSPORT_ENDPOINT = {"sqs-fifo": "sqs", "kinesis-provisioned": "kinesis-streams", "kinesis-on-demand": "kinesis-streams"}


def interface_endpoints(cfg: StackConfig) -> tuple[str, ...]:
    return ("ecr.api", "ecr.dkr", "logs", "ssm", "sns", _TRANSPORT_ENDPOINT[cfg.page_view_transport])


def origin_host(cfg: StackConfig, region: str) -> str:
    """The name a region's load balancer proves with its certificate (never resolved by clients)."""
    return f"{region}.containers.{cfg.domain}"


def container_services(
    cfg: StackConfig,
    regions: dict[str, Region],
    paths: dict[str, RegionalPaths],
    *,
    access: TableAccess,
    media: ReplicatedBuckets,
    signing_keys: dict[str, SigningKey],
    drain_parameter_name: str,
    site_origin: pulumi.Input[str],
) -> dict[str, ContainerService]:
    containers = cfg.container
    if not containers.enabled:
        return {}
    image = containers.image
    home = cfg.home_region
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=regions[home].provider)).account_id
    _replicate_image(cfg, regions[home], [r for r in regions if r != home], account)

    services: dict[str, ContainerService] = {}
    for name, region in regions.items():
        drain_arn = pulumi.Output.concat("arn:aws:ssm:", name, ":", account, ":parameter", drain_parameter_name)
        tasks = containers.tasks_in(name, home)
        services[name] = ContainerService(
            f"containers-{name}",
            ContainerServiceArgs(
                image=image.in_region(name),
                repository_arn=pulumi.Output.concat("arn:aws:ecr:", name, ":", account, ":repository/", image.repository),
                cpu=containers.cpu,
                memory=containers.memory,
                architecture=containers.architecture,
                port=containers.port,
                health_path="/health",
                desired_tasks=tasks,
                min_tasks=tasks,
                max_tasks=containers.max_tasks,
                network=containers.network,
                routes=containers.routes,
                host=origin_host(cfg, name),
                zone_name=cfg.domain,
                log_retention_days=cfg.log_retention_days,
                environment={
                    **api.api_environment(cfg, access, paths[name], media.names[name], signing_keys[name]),
                    "DRAIN_PARAMETER": drain_parameter_name,
                    "ALLOWED_ORIGIN": site_origin,
                    "AWS_REGION": name,
                    # The gateway's integration timeout: the handlers answer within it.
                    "CONTAINER_REQUEST_SECONDS": str(API_TIMEOUT_SECONDS),
                    "CONTAINER_MEMORY_MB": str(containers.memory),
                    # No X-Ray daemon beside the task: traces stay the functions'.
                    "POWERTOOLS_TRACE_DISABLED": "true",
                },
                statements=[
                    *api.api_statements(
                        access, name, paths[name].write_retry.topic_arn, paths[name].views_grant, media.arns[name]
                    ),
                    signing_keys[name].grant(),
                    allow(["ssm:GetParameter"], [drain_arn], "DrainFlag"),
                ],
                interface_endpoints=interface_endpoints(cfg) if containers.network == "private-endpoints" else (),
                alert_topic_arn=region.alert_topic_arn,
                deletion_protection=cfg.deletion_protection,
                hardening=region.hardening,
            ),
            opts=region.opts(),
        )
    return services


def _replicate_image(cfg: StackConfig, home: Region, others: list[str], account: pulumi.Input[str]) -> None:
    """Registry-level replication from the home region: a push there reaches every other region's
    registry, so no region pulls across regions (nor waits on a lost one). One configuration per
    registry: a stack that runs containers owns its account's replication rules in the home region."""
    if not others:
        return
    aws.ecr.ReplicationConfiguration(
        "container-image-replication",
        replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(
            rules=[
                aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                    destinations=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                            region=region, registry_id=account
                        )
                        for region in others
                    ],
                    repository_filters=[
                        aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                            filter=cfg.container.image.repository, filter_type="PREFIX_MATCH"
                        )
                    ],
                )
            ]
        ),
        opts=home.opts(),
    )
