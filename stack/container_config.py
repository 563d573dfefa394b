"""The container backend's config (containerBackend and its keys), validated as one choice.

Off by default: nothing is added. When on, every value a real deployment would trip over later is
refused here in one line instead: a mutable image tag, an image outside the home region's ECR
(each region pulls from its own replica), a CPU/memory pair Fargate does not offer, a network with
no way to pull the image, a pilot-light standby that cannot be scaled within its RTO budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.failover_math import api_failover_seconds, pilot_light_container_seconds
from stack.config_errors import ConfigError, one_of

CONTAINER_MODES: tuple[str, ...] = ("off", "pilot-light", "warm")
ARCHITECTURES: tuple[str, ...] = ("ARM64", "X86_64")
# public-subnets: a public IP per task and an internet gateway, no NAT. private-endpoints: no
# internet route; ECR, logs and the app's AWS APIs through VPC endpoints. private-nat: one NAT.
NETWORKS: tuple[str, ...] = ("public-subnets", "private-endpoints", "private-nat")
# Private subnets with neither endpoints nor a NAT: tasks stay PENDING with CannotPullContainerError.
UNPULLABLE_NETWORKS: tuple[str, ...] = ("private", "private-isolated", "isolated")
# Fargate's task sizes (ECS developer guide, "Task CPU and memory"): CPU units -> memory MiB.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
MAX_TASKS = 100
_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repository>[a-z0-9][a-z0-9._/-]{1,255})"
    r"@sha256:[0-9a-f]{64}$"
)


@dataclass(frozen=True, kw_only=True)
class ContainerImage:
    account: str
    region: str  # where it is pushed: the home region, the replication's source
    repository: str
    digest: str  # sha256:...

    def in_region(self, region: str) -> str:
        """The same image in `region`'s own registry (its replica): no region pulls from another."""
        return f"{self.account}.dkr.ecr.{region}.amazonaws.com/{self.repository}@{self.digest}"


@dataclass(frozen=True, kw_only=True)
class ContainerConfig:
    mode: str  # off | pilot-light | warm
    image: ContainerImage | None
    cpu: int
    memory: int
    architecture: str
    port: int
    min_tasks: int
    max_tasks: int
    network: str
    routes: tuple[str, ...]  # "GET /posts", ...: the API routes the containers serve
    rto_budget_seconds: int
    rto_seconds: int  # what the mode achieves: the API's failover (warm) or detection + scale + TTL

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def tasks_in(self, region: str, home: str) -> int:
        """Tasks a region starts with: pilot-light runs them in the home region only."""
        if not self.enabled or (self.mode == "pilot-light" and region != home):
            return 0
        return self.min_tasks


def parse_container_config(
    v: Mapping[str, Any],
    key: Callable[[str], str],
    *,
    regions: tuple[str, ...],
    health_interval: int,
    failure_threshold: int,
    api_routes: tuple[str, ...],
    health_route: str,
) -> ContainerConfig:
    """`v`: the typed config values; `api_routes`: 'METHOD /path' of every route the API has."""
    mode = v["containerBackend"]
    one_of(key("containerBackend"), mode, CONTAINER_MODES)
    cpu, memory = v["containerCpu"], v["containerMemory"]
    if cpu not in FARGATE_SIZES:
        raise ConfigError(key("containerCpu"), cpu, "Fargate CPU units: " + ", ".join(map(str, FARGATE_SIZES)))
    if memory not in FARGATE_SIZES[cpu]:
        sizes = FARGATE_SIZES[cpu]
        allowed = ", ".join(map(str, sizes)) if len(sizes) <= 4 else f"{sizes[0]}-{sizes[-1]} in steps of {sizes[1] - sizes[0]}"
        raise ConfigError(key("containerMemory"), memory, f"with containerCpu {cpu}, one of Fargate's sizes: {allowed} MiB")
    architecture = v["containerArchitecture"]
    one_of(key("containerArchitecture"), architecture, ARCHITECTURES)
    port = v["containerPort"]
    if not 1024 <= port <= 65535:
        raise ConfigError(key("containerPort"), port, "1024-65535: the image runs as an unprivileged user")
    network = v["containerNetwork"]
    if network in UNPULLABLE_NETWORKS:
        raise ConfigError(
            key("containerNetwork"),
            network,
            "a network tasks can pull from: private subnets without endpoints or a NAT leave tasks PENDING "
            "(CannotPullContainerError); use private-endpoints, private-nat or public-subnets",
        )
    one_of(key("containerNetwork"), network, NETWORKS)
    low, high = v["containerMinTasks"], v["containerMaxTasks"]
    if not 0 <= low <= MAX_TASKS or not 1 <= high <= MAX_TASKS or low > high:
        raise ConfigError(
            key("containerMinTasks"), low, f"0-{MAX_TASKS} and at most containerMaxTasks ({high}, itself 1-{MAX_TASKS})"
        )
    if mode == "warm" and low < 1:
        raise ConfigError(key("containerMinTasks"), low, "at least 1 when warm: a region with no task cannot serve its routes")
    routes = _routes(v["containerRoutes"], key("containerRoutes"), api_routes, health_route)
    budget = v["containerRtoBudgetSeconds"]
    if budget <= 0:
        raise ConfigError(key("containerRtoBudgetSeconds"), budget, "a positive number of seconds")

    image = None
    rto = api_failover_seconds(health_interval, failure_threshold)
    if mode != "off":
        image = _image(v["containerImage"], key("containerImage"), home=regions[0])
        if mode == "pilot-light" and len(regions) > 1:
            rto = pilot_light_container_seconds(health_interval, failure_threshold)
        if len(regions) > 1 and rto > budget:
            raise ConfigError(
                key("containerRtoBudgetSeconds"),
                budget,
                f"at least the {mode} container RTO {rto} s (detection {health_interval} x {failure_threshold}"
                f"{' + scale from zero' if mode == 'pilot-light' else ''} + 60 s DNS TTL); use warm, faster health "
                "checks, or raise the budget",
            )
    return ContainerConfig(
        mode=mode,
        image=image,
        cpu=cpu,
        memory=memory,
        architecture=architecture,
        port=port,
        min_tasks=low,
        max_tasks=high,
        network=network,
        routes=routes,
        rto_budget_seconds=budget,
        rto_seconds=rto,
    )


def _image(value: str, key: str, *, home: str) -> ContainerImage:
    match = _IMAGE.match(value.strip())
    if not match:
        hint = " (a tag can move under the same name)" if ":" in value.rsplit("/", 1)[-1] and "@" not in value else ""
        raise ConfigError(
            key,
            value,
            f"an image in the home region's private ECR pinned by digest{hint}: "
            f"<account>.dkr.ecr.{home}.amazonaws.com/<repository>@sha256:<64 hex digits>",
        )
    if match["region"] != home:
        raise ConfigError(
            key,
            value,
            f"an image pushed to the home region {home}: it is replicated from there to every region, not from {match['region']}",
        )
    return ContainerImage(
        account=match["account"], region=match["region"], repository=match["repository"], digest=value.rsplit("@", 1)[1]
    )


def _routes(values: list[str], key: str, api_routes: tuple[str, ...], health_route: str) -> tuple[str, ...]:
    served = tuple(r for r in api_routes if r != health_route)
    if not values:
        return served
    normalised = [" ".join(part.upper() if i == 0 else part for i, part in enumerate(str(r).split())) for r in values]
    unknown = [r for r in normalised if r not in served]
    if unknown or len(set(normalised)) != len(normalised):
        raise ConfigError(
            key,
            values,
            "each once, among the API's routes but the health check (which stays on its function): " + ", ".join(served),
        )
    return tuple(normalised)
