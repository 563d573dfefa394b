"""The relational store's config (relationalDb and its keys), validated as one choice.

Off by default. When on, what AWS would refuse later (a global primary that pauses to zero, write
forwarding with the Data API, a version without auto-pause or global support) and a headless
secondary that cannot be promoted within the RTO budget are refused here in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.failover_math import relational_rto_seconds
from stack.config_errors import ConfigError, one_of

MODES: tuple[str, ...] = ("off", "aurora-serverless")
DR_MODES: tuple[str, ...] = ("global", "backup-copy")
SECONDARIES: tuple[str, ...] = ("headless", "warm")
# Aurora PostgreSQL versions with Serverless v2 scaling to 0 (16.3+, 15.7+, 14.12+), the Data API
# and global databases (Aurora User Guide: auto-pause, Data API and global database availability).
ENGINE_VERSIONS: tuple[str, ...] = ("16.6", "16.4", "15.10", "15.8", "14.15", "14.13")


@dataclass(frozen=True, kw_only=True)
class RelationalConfig:
    mode: str  # off | aurora-serverless
    dr: str | None  # global | backup-copy; None for one region
    engine_version: str
    min_capacity: float
    max_capacity: int
    seconds_until_auto_pause: int
    secondary: str  # headless | warm
    rto_budget_seconds: int
    rto_seconds: int | None  # global: detection + instance (headless) + failover; None otherwise
    # The automatic promotion may fail the database over (losing what had not replicated).
    automatic_failover: bool = False

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def is_global(self) -> bool:
        return self.enabled and self.dr == "global"

    @property
    def pauses(self) -> bool:
        return self.min_capacity == 0


def parse_relational_config(
    v: Mapping[str, Any],
    key: Callable[[str], str],
    *,
    regions: tuple[str, ...],
    health_interval: int,
    failure_threshold: int,
) -> RelationalConfig:
    mode = v["relationalDb"]
    one_of(key("relationalDb"), mode, MODES)
    multi = len(regions) > 1
    dr = v["relationalDbDr"] or ("global" if multi else "")
    if dr and not multi:
        raise ConfigError(key("relationalDbDr"), dr, "empty with one region: there is nowhere to fail over to")
    if multi:
        one_of(key("relationalDbDr"), dr, DR_MODES)
    version = v["relationalDbEngineVersion"]
    if version not in ENGINE_VERSIONS:
        raise ConfigError(
            key("relationalDbEngineVersion"),
            version,
            "an Aurora PostgreSQL version with Serverless v2 auto-pause, the Data API and global databases: "
            + ", ".join(ENGINE_VERSIONS),
        )
    is_global = mode != "off" and dr == "global"
    minimum = _capacity(v["relationalDbMinCapacity"], key("relationalDbMinCapacity"), default=0.5 if is_global else 0)
    maximum = v["relationalDbMaxCapacity"]
    if not 1 <= maximum <= 256 or maximum < minimum:
        raise ConfigError(
            key("relationalDbMaxCapacity"), maximum, f"1-256 ACUs and at least relationalDbMinCapacity ({minimum:g})"
        )
    if is_global and minimum == 0:
        raise ConfigError(
            key("relationalDbMinCapacity"),
            v["relationalDbMinCapacity"],
            "at least 0.5 for a global database: its primary cannot pause (auto-pause is incompatible with "
            "a global primary); use relationalDbDr backup-copy to pause to zero",
        )
    pause = v["relationalDbSecondsUntilAutoPause"]
    if not 300 <= pause <= 86400:
        raise ConfigError(key("relationalDbSecondsUntilAutoPause"), pause, "300-86400 seconds")
    secondary = v["relationalDbSecondary"]
    one_of(key("relationalDbSecondary"), secondary, SECONDARIES)
    if v["relationalDbWriteForwarding"]:
        raise ConfigError(
            key("relationalDbWriteForwarding"),
            True,
            "false: the functions reach the database through the Data API, which answers only on a writer",
        )
    budget = v["relationalRtoBudgetSeconds"]
    if budget <= 0:
        raise ConfigError(key("relationalRtoBudgetSeconds"), budget, "a positive number of seconds")
    rto = None
    if is_global:
        rto = relational_rto_seconds(health_interval, failure_threshold, headless=secondary == "headless")
        if rto > budget:
            raise ConfigError(
                key("relationalRtoBudgetSeconds"),
                budget,
                f"at least the computed relational RTO {rto} s (detection + "
                f"{'an instance created in the headless secondary + ' if secondary == 'headless' else ''}"
                "global failover); use relationalDbSecondary warm or raise the budget",
            )
    automatic = v["relationalDbAutomaticFailover"]
    if automatic and not is_global:
        raise ConfigError(
            key("relationalDbAutomaticFailover"), True, "false without a global database: there is no writer to fail over"
        )
    if automatic and v["writeFailover"] != "automatic":
        raise ConfigError(
            key("relationalDbAutomaticFailover"),
            True,
            "false with writeFailover manual: only an operator moves the write primary, with promote --allow-data-loss",
        )
    return RelationalConfig(
        mode=mode,
        dr=dr or None,
        engine_version=version,
        min_capacity=minimum,
        max_capacity=maximum,
        seconds_until_auto_pause=pause,
        secondary=secondary,
        rto_budget_seconds=budget,
        rto_seconds=rto,
        automatic_failover=automatic,
    )


def _capacity(value: str, key: str, *, default: float) -> float:
    if value.strip() == "":
        return default
    try:
        capacity = float(value)
    except ValueError:
        capacity = -1.0
    if not (capacity == 0 or 0.5 <= capacity <= 256) or (capacity * 2) != int(capacity * 2):
        raise ConfigError(key, value, "0, or 0.5 to 256 Aurora capacity units in steps of 0.5")
    return capacity
