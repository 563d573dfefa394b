"""ContainerService: one region's API routes served by Fargate tasks behind an internal load balancer.

Built from plain pulumi-aws resources (not awsx, whose children mocks cannot see), so the offline
plan, the policy pack, the IAM contract and the cost model see every one.

Creates (region from the provider in `opts`)
- the network (`_blocks/small_vpc.py`): a two-AZ VPC with the chosen egress only;
- security groups chained link -> load balancer -> tasks: each admits only the one before it;
- `{name}-alb`: an internal application load balancer with an HTTPS listener (the certificate of
  `host`, a name in the caller's zone, TLS 1.2+), and an `ip` target group health-checked on the
  container's health path;
- `{name}-link`: a VPC link V2 for the regional REST API's private integrations (`private_backend`);
- `{name}-cluster`, `{name}-task` (Fargate, awsvpc, the architecture given, the image by digest,
  read-only root file system with a scratch /tmp, unprivileged user, awslogs to a group under the
  caller's retention and key), `{name}-service` (deployment circuit breaker with rollback; the
  desired count left to autoscaling and the drill after creation);
- execution role (pull this repository's image, write this log group) and task role (the
  caller's statements: what the application does, nothing else);
- autoscaling on requests per target between `min_tasks` and `max_tasks`; its minimum too is left
  to the drill after creation (a pilot-light standby scaled up stays up across `pulumi up`);
- alarms: no healthy target, and 5xx from the targets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from ._blocks.certificate import dns_validated_certificate
from ._blocks.log_group import log_group
from ._blocks.small_vpc import small_vpc
from .hardening import Hardening
from .policies import allow, assume_role_policy, policy_document
from .serverless_api import PrivateBackend

CONTAINER_NAME = "api"
LISTENER_PORT = 443
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Seed 001 deregisters at once, dropping requests in flight on every deploy: a few seconds instead.
DEREGISTRATION_DELAY_SECONDS = 5
# Requests per target per minute the autoscaling policy holds (about 5 a second per 0.25 vCPU task).
REQUESTS_PER_TARGET = 300


@dataclass(frozen=True, kw_only=True)
class ContainerServiceArgs:
    image: str  # this region's replica, pinned by digest
    repository_arn: pulumi.Input[str]  # the execution role pulls from this repository only
    cpu: int
    memory: int
    architecture: str  # ARM64 | X86_64
    port: int
    health_path: str
    desired_tasks: int  # at creation; afterwards autoscaling and the drill own it
    min_tasks: int
    max_tasks: int
    network: str  # public-subnets | private-endpoints | private-nat
    routes: Sequence[str]
    host: str  # a name in `zone_name` for the load balancer's certificate
    zone_name: str
    log_retention_days: int
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statements: Sequence[Mapping[str, Any]] = ()  # the task role: what the application does
    interface_endpoints: Sequence[str] = ()  # private-endpoints: the services the tasks reach privately
    alert_topic_arn: pulumi.Input[str] | None = None
    deletion_protection: bool = False
    hardening: Hardening = field(default_factory=Hardening)
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if "@sha256:" not in self.image:
            raise ValueError(f"ContainerServiceArgs.image: {self.image!r} is not pinned by digest")
        if not 0 <= self.min_tasks <= self.desired_tasks <= self.max_tasks or self.max_tasks < 1:
            raise ValueError(
                "ContainerServiceArgs: needs 0 <= min_tasks <= desired_tasks <= max_tasks and max_tasks >= 1 "
                f"(have {self.min_tasks}, {self.desired_tasks}, {self.max_tasks})"
            )
        if not self.health_path.startswith("/"):
            raise ValueError(f"ContainerServiceArgs.health_path: {self.health_path!r} must start with /")
        if not self.routes:
            raise ValueError("ContainerServiceArgs.routes: at least one route")
        if not self.host.endswith("." + self.zone_name):
            raise ValueError(f"ContainerServiceArgs.host: {self.host} is not inside zone {self.zone_name}")


class ContainerService(pulumi.ComponentResource):
    backend: PrivateBackend
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    load_balancer_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerServiceArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:ContainerService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        net = small_vpc(name, network=args.network, interface_endpoints=args.interface_endpoints, tags=tags, opts=child)
        link_group, alb_group, task_group = (
            aws.ec2.SecurityGroup(f"{name}-{role}-sg", vpc_id=net.vpc_id, description=text, tags=tags, opts=child)
            for role, text in (
                ("link", "API Gateway's VPC link: out to the load balancer only"),
                ("alb", "Internal load balancer: in from the VPC link only, out to the tasks only"),
                ("task", "Fargate tasks: in from the load balancer only"),
            )
        )
        _admit(f"{name}-alb-from-link", alb_group, link_group, LISTENER_PORT, child)
        _admit(f"{name}-task-from-alb", task_group, alb_group, args.port, child)
        # Out: the link reaches the load balancer, the load balancer the tasks, the tasks HTTPS
        # (ECR, logs and the AWS APIs, through the internet gateway, the NAT or the endpoints).
        _egress(f"{name}-link-to-alb", link_group, LISTENER_PORT, child, to_group=alb_group)
        _egress(f"{name}-alb-to-task", alb_group, args.port, child, to_group=task_group)
        _egress(f"{name}-task-https", task_group, 443, child, cidr="0.0.0.0/0")
        if net.endpoint_security_group_id is not None:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-from-task",
                description="HTTPS from the tasks to the interface endpoints",
                security_group_id=net.endpoint_security_group_id,
                referenced_security_group_id=task_group.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                opts=child,
            )

        zone = aws.route53.get_zone_output(name=args.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self))
        certificate = dns_validated_certificate(
            f"{name}-origin", domain_name=args.host, zone_id=zone.zone_id, parent=self, create_record=True, tags=tags
        )
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            internal=True,
            load_balancer_type="application",
            security_groups=[alb_group.id],
            subnets=net.subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=35,  # past API Gateway's 29 s: the gateway, not the balancer, times a request out
            tags=tags,
            opts=child,
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-targets",
            target_type="ip",
            port=args.port,
            protocol="HTTP",
            vpc_id=net.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=args.health_path,
                matcher="200",
                interval=10,
                healthy_threshold=2,
                unhealthy_threshold=3,
                timeout=5,
            ),
            tags=tags,
            opts=child,
        )
        listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=alb.arn,
            port=LISTENER_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate.arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            tags=tags,
            opts=child,
        )
        link = aws.apigatewayv2.VpcLink(
            f"{name}-link", security_group_ids=[link_group.id], subnet_ids=net.subnet_ids, tags=tags, opts=child
        )

        logs = log_group(f"{name}-logs", args.log_retention_days, args.hardening.log_key_arn, tags, child)
        execution_role = aws.iam.Role(
            f"{name}-execution-role", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"), tags=tags, opts=child
        )
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=execution_role.id,
            policy=policy_document(
                [
                    # GetAuthorizationToken has no resource-level permission; the pull itself is this repository only.
                    allow(["ecr:GetAuthorizationToken"], ["*"], "RegistryLogin"),
                    allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [args.repository_arn], "PullImage"),
                    allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logs.arn.apply(lambda a: f"{a}:*")], "OwnLogGroup"),
                ]
            ),
            opts=child,
        )
        task_role = aws.iam.Role(
            f"{name}-task-role", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"), tags=tags, opts=child
        )
        task_policy = aws.iam.RolePolicy(
            f"{name}-task-policy", role=task_role.id, policy=policy_document(list(args.statements)), opts=child
        )

        definition = pulumi.Output.all(environment=dict(args.environment), logs=logs.name, region=region).apply(
            lambda v: json.dumps(_container_definitions(args, v["environment"], v["logs"], v["region"]), sort_keys=True)
        )
        task = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{name}-api",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.architecture
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=definition,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[task_policy])),
        )
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="disabled")],
            tags=tags,
            opts=child,
        )
        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn,
            task_definition=task.arn,
            launch_type="FARGATE",
            platform_version="1.4.0",
            desired_count=args.desired_tasks,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=60,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=net.subnet_ids, security_groups=[task_group.id], assign_public_ip=net.public_ip
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=args.port
                )
            ],
            propagate_tags="SERVICE",
            enable_execute_command=False,
            tags=tags,
            # After creation the count is autoscaling's and the drill's: `pulumi up` must not undo a scale-up.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[listener], ignore_changes=["desiredCount"])
            ),
        )
        resource_id = pulumi.Output.concat("service/", cluster.name, "/", service.name)
        scaling = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=resource_id,
            min_capacity=args.min_tasks,
            max_capacity=args.max_tasks,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["minCapacity"])),
        )
        aws.appautoscaling.Policy(
            f"{name}-requests-per-target",
            policy_type="TargetTrackingScaling",
            service_namespace=scaling.service_namespace,
            scalable_dimension=scaling.scalable_dimension,
            resource_id=scaling.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=REQUESTS_PER_TARGET,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix),
                ),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
            opts=child,
        )

        dimensions = {"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix}
        if args.desired_tasks > 0:
            # A pilot-light standby has no target on purpose: only a serving region alarms on none.
            metric_alarm(
                f"{name}-no-healthy-target",
                description=f"{name}: no healthy container behind the load balancer",
                namespace="AWS/ApplicationELB",
                metric="HealthyHostCount",
                dimensions=dimensions,
                statistic="Minimum",
                threshold=1,
                comparison="LessThanThreshold",
                missing_data="breaching",
                topic_arn=args.alert_topic_arn,
                tags=tags,
                opts=child,
            )
        metric_alarm(
            f"{name}-target-5xx",
            description=f"{name}: containers answered 5xx",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_Target_5XX_Count",
            dimensions=dimensions,
            statistic="Sum",
            threshold=5,
            topic_arn=args.alert_topic_arn,
            tags=tags,
            opts=child,
        )

        self.backend = PrivateBackend(link.id, alb.arn, args.host, tuple(args.routes))
        self.cluster_name = cluster.name
        self.service_name = service.name
        self.target_group_arn = target_group.arn
        self.load_balancer_arn = alb.arn
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
                "target_group_arn": self.target_group_arn,
                "load_balancer_arn": self.load_balancer_arn,
            }
        )


def _container_definitions(args: ContainerServiceArgs, environment: Mapping[str, str], log_group_name: str, region: str):
    return [
        {
            "name": CONTAINER_NAME,
            "image": args.image,
            "essential": True,
            "user": "65534:65534",
            "readonlyRootFilesystem": True,
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "portMappings": [{"containerPort": args.port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": environment[k]} for k in sorted(environment)],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": log_group_name, "awslogs-region": region, "awslogs-stream-prefix": "api"},
            },
        }
    ]


def _admit(name: str, group, source, port: int, opts) -> None:
    aws.vpc.SecurityGroupIngressRule(
        name,
        description=f"TCP {port} from one security group only",
        security_group_id=group.id,
        referenced_security_group_id=source.id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        opts=opts,
    )


def _egress(name: str, group, port: int, opts, *, to_group=None, cidr: str | None = None) -> None:
    aws.vpc.SecurityGroupEgressRule(
        name,
        description=f"TCP {port} out" + (" to one security group only" if to_group is not None else ""),
        security_group_id=group.id,
        referenced_security_group_id=to_group.id if to_group is not None else None,
        cidr_ipv4=cidr,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        opts=opts,
    )
