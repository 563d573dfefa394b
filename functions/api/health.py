"""Deep health: the local replica answers and the region is not drained.

Route 53 health checkers call this every 10 s from several places; both answers are cached for a
few seconds so the checks cost one read and one parameter fetch per cache period, and a drain
flag set by an operator takes effect within that period plus the health check's detection time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from shared import aws, deadline
from shared.flags import is_drained

CACHE_SECONDS = 5


@dataclass
class _Cached:
    value: tuple[bool, str] | None = None
    at: float = 0.0


_table_probes: dict[str, _Cached] = {}  # by region: one in Lambda, several in the simulation


def _cached(probes: dict[str, _Cached], probe: Callable[[], tuple[bool, str]], clock: Callable[[], float]) -> tuple[bool, str]:
    """A probe's answer for this region, asked again only after CACHE_SECONDS."""
    cached = probes.setdefault(aws.local_region(), _Cached())
    if cached.value is None or clock() - cached.at >= CACHE_SECONDS:
        cached.value, cached.at = probe(), clock()
    return cached.value


def _error_code(error: ClientError | BotoCoreError) -> str:
    return error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__


def table_reachable(table, clock: Callable[[], float] = deadline.now) -> tuple[bool, str]:
    def probe() -> tuple[bool, str]:
        try:
            table.get_item(Key={"pk": "HEALTH#probe", "sk": "HEALTH"}, ConsistentRead=True)
            return True, "table reachable"
        except (ClientError, BotoCoreError) as error:
            return False, f"table unreachable: {_error_code(error)}"

    return _cached(_table_probes, probe, clock)


_providers: dict[str, object] = {}


def _ssm_provider():
    """Powertools' SSM provider (it caches values for max_age) on this region's SSM client."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    region = aws.local_region()
    if region not in _providers:
        _providers[region] = SSMProvider(boto3_client=aws.client("ssm"))
    return _providers[region]


def drained(parameter_name: str) -> tuple[bool, str]:
    """True when the region's drain parameter says so; an unreadable parameter is not a drain."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = _ssm_provider().get(parameter_name, max_age=CACHE_SECONDS)
    except GetParameterError as error:
        return False, f"drain flag unreadable ({error.__class__.__name__}); serving"
    return is_drained(value), f"drain flag is {value!r}"


_target_probes: dict[str, _Cached] = {}  # by region, like the table's


def containers_serving(target_group_arn: str, clock: Callable[[], float] = deadline.now) -> tuple[bool, str]:
    """Warm containers (containerBackend): at least one healthy target behind the region's load
    balancer. A region whose containers are all down must leave DNS like any other sick region. An
    unreadable answer is not an outage (as for the drain flag): the region keeps serving."""

    def probe() -> tuple[bool, str]:
        try:
            answer = aws.client("elbv2").describe_target_health(TargetGroupArn=target_group_arn)
        except (ClientError, BotoCoreError) as error:
            return True, f"container targets unreadable ({_error_code(error)}); serving"
        healthy = sum(1 for t in answer["TargetHealthDescriptions"] if t["TargetHealth"]["State"] == "healthy")
        return healthy > 0, f"{healthy} healthy container(s)"

    return _cached(_target_probes, probe, clock)


def check(table, parameter_name: str, region: str, target_group_arn: str | None = None) -> tuple[int, dict]:
    is_drained, drain_reason = drained(parameter_name)
    if is_drained:
        return 503, {"status": "draining", "region": region, "reason": drain_reason}
    ok, table_reason = table_reachable(table)
    if not ok:
        return 503, {"status": "unhealthy", "region": region, "reason": table_reason}
    if target_group_arn:
        serving, containers_reason = containers_serving(target_group_arn)
        if not serving:
            return 503, {"status": "unhealthy", "region": region, "reason": containers_reason}
    return 200, {"status": "ok", "region": region}


def reset_cache() -> None:
    _table_probes.clear()
    _target_probes.clear()
    _providers.clear()
