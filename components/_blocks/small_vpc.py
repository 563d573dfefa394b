"""A small VPC over two Availability Zones with only the egress chosen: where a region's
containers run (ContainerService), and where its Aurora cluster lives with none at all (AuroraGlobal).

- `public-subnets`: subnets routed to an internet gateway; each task gets a public IP (its way to
  ECR and the AWS APIs) and admits nothing but the load balancer. No NAT.
- `private-endpoints`: subnets with no route out; ECR, logs and the APIs the application calls
  through interface endpoints (one per AZ each), S3 and DynamoDB through gateway endpoints.
- `private-nat`: private subnets routed to one NAT gateway in a public subnet.
- `isolated`: private subnets with no route out and no endpoint (Aurora, reached through the Data
  API, needs no network path to anything).
The internal load balancer and the VPC link use the same subnets as the tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

CIDR = "10.80.0.0/16"
ZONES = 2
# Gateway endpoints cost nothing: S3 (ECR keeps image layers there) and DynamoDB, whenever private.
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True)
class SmallVpc:
    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]  # where the tasks, the load balancer and the VPC link live
    public_ip: bool  # tasks need a public IP to reach the internet gateway
    endpoint_security_group_id: pulumi.Output[str] | None  # interface endpoints' group (private-endpoints)


def small_vpc(
    name: str,
    *,
    network: str,
    interface_endpoints: Sequence[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> SmallVpc:
    """`interface_endpoints`: service names (ecr.api, logs, ...) reached privately in private-endpoints."""
    # The provider given, else the parent's: a cross-region component names one per child.
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent, provider=opts.provider)
    region = aws.get_region_output(opts=invoke).region
    zones = aws.get_availability_zones_output(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=invoke,
    ).names
    vpc = aws.ec2.Vpc(
        f"{name}-vpc", cidr_block=CIDR, enable_dns_support=True, enable_dns_hostnames=True, tags=dict(tags), opts=opts
    )
    # The default security group admits its own members: left with no rule at all (CIS 5.4).
    aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, tags=dict(tags), opts=opts)
    public = network in ("public-subnets", "private-nat")
    public_subnets = (
        [_subnet(f"{name}-public-{i}", vpc, zones[i], f"10.80.{i}.0/24", tags, opts) for i in range(ZONES)] if public else []
    )
    if public:
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=dict(tags), opts=opts)
        _route_table(f"{name}-public", vpc, public_subnets, {"gateway_id": gateway.id}, tags, opts)
    if network == "public-subnets":
        return SmallVpc(vpc.id, [s.id for s in public_subnets], True, None)

    private_subnets = [_subnet(f"{name}-private-{i}", vpc, zones[i], f"10.80.{10 + i}.0/24", tags, opts) for i in range(ZONES)]
    if network == "isolated":
        _route_table(f"{name}-private", vpc, private_subnets, None, tags, opts)
        return SmallVpc(vpc.id, [s.id for s in private_subnets], False, None)
    if network == "private-nat":
        address = aws.ec2.Eip(f"{name}-nat-ip", domain="vpc", tags=dict(tags), opts=opts)
        nat = aws.ec2.NatGateway(
            f"{name}-nat", allocation_id=address.id, subnet_id=public_subnets[0].id, tags=dict(tags), opts=opts
        )
        table = _route_table(f"{name}-private", vpc, private_subnets, {"nat_gateway_id": nat.id}, tags, opts)
    else:
        table = _route_table(f"{name}-private", vpc, private_subnets, None, tags, opts)
    for service in GATEWAY_ENDPOINTS:
        aws.ec2.VpcEndpoint(
            f"{name}-{service}-endpoint",
            vpc_id=vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id],
            tags=dict(tags),
            opts=opts,
        )
    endpoint_group = None
    if network == "private-endpoints":
        endpoint_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=vpc.id,
            description="Interface endpoints: HTTPS from the tasks only",
            tags=dict(tags),
            opts=opts,
        )
        for service in interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}-endpoint",
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private_subnets],
                security_group_ids=[endpoint_group.id],
                tags=dict(tags),
                opts=opts,
            )
    return SmallVpc(vpc.id, [s.id for s in private_subnets], False, endpoint_group.id if endpoint_group else None)


def _subnet(name, vpc, zone, cidr, tags, opts) -> aws.ec2.Subnet:
    # No automatic public IP: a task asks for one itself (public-subnets), nothing else gets one.
    return aws.ec2.Subnet(
        name,
        vpc_id=vpc.id,
        availability_zone=zone,
        cidr_block=cidr,
        map_public_ip_on_launch=False,
        tags=dict(tags),
        opts=opts,
    )


def _route_table(name, vpc, subnets, default_route: dict | None, tags, opts) -> aws.ec2.RouteTable:
    routes = [aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", **default_route)] if default_route else []
    table = aws.ec2.RouteTable(f"{name}-routes", vpc_id=vpc.id, routes=routes, tags=dict(tags), opts=opts)
    for i, subnet in enumerate(subnets):
        aws.ec2.RouteTableAssociation(f"{name}-routes-{i}", subnet_id=subnet.id, route_table_id=table.id, opts=opts)
    return table
