"""The container backend as planned offline, for every variant that runs it (warm and pilot-light,
one to three regions, each network choice): expectations come from each variant's config."""

import json

import pytest

from ops.cost import idle_lines
from stack.containers import interface_endpoints, origin_host
from tests.helpers import cached_stack
from tests.stacks.invariants import config_of, variant_config
from verify.variants import VARIANTS

CONTAINER_VARIANTS = sorted(n for n, (_, o) in VARIANTS.items() if o.get("containerBackend", "off") != "off")
LB = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CONTAINER_TYPES = ("aws:ecs/", "aws:lb/", "aws:ec2/", "aws:vpc/", "aws:apigatewayv2/", "aws:appautoscaling/", "aws:ecr/")


def run_of(variant):
    base, overrides = VARIANTS[variant]
    return cached_stack(base, **overrides)


def in_region(run, type_, region):
    return [r for r in run.of_type(type_) if r.region == region]


def test_the_variants_cover_warm_over_one_and_several_regions_pilot_light_and_every_network():
    # Pilot-light with one region is warm: there is no standby to keep at zero.
    configs = [variant_config(*VARIANTS[v]) for v in CONTAINER_VARIANTS]
    assert {(c.container.mode, len(c.regions) > 1) for c in configs} == {("warm", False), ("warm", True), ("pilot-light", True)}
    assert {c.container.network for c in configs} == {"public-subnets", "private-endpoints", "private-nat"}


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_off_adds_nothing(stack):
    run = cached_stack(stack)
    assert not [r for r in run.resources if r.type.startswith(CONTAINER_TYPES)]
    assert "containerServices" not in run.outputs and run.outputs["drBudget"]["containers"] is None


@pytest.mark.parametrize("variant", CONTAINER_VARIANTS)
def test_each_region_runs_its_own_replica_behind_an_internal_balancer_reached_only_through_the_link(variant):
    run = run_of(variant)
    cfg = config_of(run)
    containers = cfg.container
    for region in cfg.regions:
        (balancer,) = in_region(run, LB, region)
        assert balancer.inputs["internal"] is True
        (task,) = in_region(run, "aws:ecs/taskDefinition:TaskDefinition", region)
        (container,) = json.loads(task.inputs["containerDefinitions"])
        assert container["image"] == containers.image.in_region(region)
        assert (task.inputs["cpu"], task.inputs["memory"]) == (str(containers.cpu), str(containers.memory))
        assert task.inputs["runtimePlatform"]["cpuArchitecture"] == containers.architecture
        (service,) = in_region(run, "aws:ecs/service:Service", region)
        assert service.inputs["desiredCount"] == containers.tasks_in(region, cfg.home_region)
        assert service.inputs["networkConfiguration"]["assignPublicIp"] == (containers.network == "public-subnets")
        (group,) = in_region(run, "aws:lb/targetGroup:TargetGroup", region)
        assert group.inputs["healthCheck"]["path"] == "/health" and group.inputs["port"] == containers.port
        # The chain: the balancer admits the link's group, the tasks admit the balancer's, nothing else.
        sources = {
            (rule.property_dependencies["securityGroupId"][0].rsplit("::", 1)[1], rule.inputs.get("referencedSecurityGroupId"))
            for rule in in_region(run, INGRESS, region)
        }
        assert all(source is not None for _, source in sources)
        names = {target.removeprefix(f"containers-{region}-") for target, _ in sources}
        assert names <= {"alb-sg", "task-sg", "endpoints-sg"} and {"alb-sg", "task-sg"} <= names
        endpoints = [
            e for e in in_region(run, "aws:ec2/vpcEndpoint:VpcEndpoint", region) if e.inputs["vpcEndpointType"] == "Interface"
        ]
        expected = interface_endpoints(cfg) if containers.network == "private-endpoints" else ()
        assert sorted(e.inputs["serviceName"].rsplit(".", 1)[-1] for e in endpoints) == sorted(
            s.rsplit(".", 1)[-1] for s in expected
        )
        assert len(in_region(run, "aws:ec2/natGateway:NatGateway", region)) == (containers.network == "private-nat")


@pytest.mark.parametrize("variant", CONTAINER_VARIANTS)
def test_every_container_route_goes_through_its_regions_link_to_its_regions_balancer_with_its_own_path(variant):
    run = run_of(variant)
    cfg = config_of(run)
    served = {tuple(r.split(" ", 1)) for r in cfg.container.routes}
    for region in cfg.regions:
        (balancer,) = in_region(run, LB, region)
        (api,) = in_region(run, "aws:apigateway/restApi:RestApi", region)
        paths = json.loads(api.inputs["body"])["paths"]
        for path, item in paths.items():
            for method, operation in item.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                if (method.upper(), path) in served:
                    assert integration["type"] == "http_proxy" and integration["connectionType"] == "VPC_LINK"
                    assert integration["integrationTarget"] == balancer.state["arn"]
                    assert integration["connectionId"].startswith(f"containers-{region}-link")
                    # No stage prefix: the backend sees the route's own path.
                    assert integration["uri"] == f"https://{origin_host(cfg, region)}{path}"
                elif method in ("get", "post", "put", "delete"):
                    assert integration["type"] == "aws_proxy", f"{method.upper()} {path} left the function"
        assert paths["/health"]["get"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


@pytest.mark.parametrize("variant", CONTAINER_VARIANTS)
def test_the_image_is_replicated_from_home_to_every_other_region(variant):
    run = run_of(variant)
    cfg = config_of(run)
    replication = run.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    others = [r for r in cfg.regions if r != cfg.home_region]
    if not others:
        assert replication == []
        return
    (config,) = replication
    assert config.region == cfg.home_region
    (rule,) = config.inputs["replicationConfiguration"]["rules"]
    assert sorted(d["region"] for d in rule["destinations"]) == sorted(others)
    assert rule["repositoryFilters"] == [{"filter": cfg.container.image.repository, "filterType": "PREFIX_MATCH"}]


@pytest.mark.parametrize("variant", CONTAINER_VARIANTS)
def test_the_cost_model_prices_the_balancer_the_tasks_and_the_egress_chosen(variant):
    run = run_of(variant)
    cfg = config_of(run)
    lines = idle_lines(run)
    for region in cfg.regions:
        mine = {line.detail: line for line in lines if line.region == region}
        assert "application load balancer" in mine
        tasks = cfg.container.tasks_in(region, cfg.home_region)
        fargate = [d for d in mine if "Fargate task" in d]
        assert fargate == (
            [
                f"{tasks} x Fargate task {cfg.container.cpu / 1024:g} vCPU / {cfg.container.memory / 1024:g} GB "
                f"{'ARM' if cfg.container.architecture == 'ARM64' else 'X86'}"
            ]
            if tasks
            else []
        )
        assert ("NAT gateway" in mine) == (cfg.container.network == "private-nat")
        assert ("interface endpoint per AZ" in mine) == (cfg.container.network == "private-endpoints")


@pytest.mark.parametrize("variant", CONTAINER_VARIANTS)
def test_a_warm_regions_health_counts_its_containers_and_a_pilot_light_standbys_does_not(variant):
    run = run_of(variant)
    cfg = config_of(run)
    for region in cfg.regions:
        (function,) = [f for f in in_region(run, "aws:lambda/function:Function", region) if f.name == f"api-{region}-health"]
        variables = function.inputs["environment"]["variables"]
        (group,) = in_region(run, "aws:lb/targetGroup:TargetGroup", region)
        if cfg.container.mode == "warm":
            assert variables["CONTAINER_TARGET_GROUP_ARN"] == group.state["arn"]
        else:
            assert "CONTAINER_TARGET_GROUP_ARN" not in variables


def test_the_figures_in_the_container_docs_are_the_cost_models():
    """docs/containers.md and the README quote per-region figures: each is what the model prices
    for the variants that choose it (warm on public subnets, a pilot-light standby, a NAT, endpoints)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "containers.md").read_text() + (root / "README.md").read_text()

    def region_total(variant, region, kinds):
        lines = idle_lines(run_of(variant))
        return sum(line.monthly_usd for line in lines if line.region == region and line.type.startswith(kinds))

    warm = region_total("single-region-with-domain-and-environment-key", "eu-central-1", ("aws:lb/", "aws:ecs/"))
    standby = region_total(
        "failover-routing-locked-hourly-backups-pilot-light-headless-database", "us-west-2", ("aws:lb/", "aws:ecs/")
    )
    nat = region_total(
        "failover-routing-locked-hourly-backups-pilot-light-headless-database", "us-west-2", ("aws:ec2/natGateway", "aws:ec2/eip")
    )
    endpoints = region_total("strong-with-witness-private-containers", "us-west-2", ("aws:ec2/vpcEndpoint",))
    for figure in (warm, standby, nat, endpoints):
        assert f"${figure:.2f}" in docs, f"${figure:.2f} is not in docs/containers.md or the README"
