"""A global table that replicates like one, over moto's per-region tables.

moto keeps one table per region and does not replicate global tables. `Replicator` does, the way
DynamoDB global tables with eventual consistency (MREC) do: item by item, after a lag, last writer
wins per item (by the time of the write), replicated writes appearing in the receiving replica's
stream like local ones. Links can be cut one way or both (a partition) and healed; a region can be
down (it neither sends nor receives; what it wrote before stays queued until it is back). Each
delivery's lag may vary by a jitter, so items replicate out of order as they may in AWS (items
replicate individually; nothing orders them across items). Time is virtual: nothing sleeps.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

TABLE = "app-table"


def backend(region: str):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def shard(region: str, table: str = TABLE):
    return backend(region).tables[table].stream_shard


def key_of(image: dict[str, Any]) -> tuple[str, str]:
    return image["pk"]["S"], image["sk"]["S"]


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    source: str = field(compare=False)
    target: str = field(compare=False)
    record: dict = field(compare=False)
    written_at: tuple[float, int] = field(compare=False)


class Replicator:
    """Last-writer-wins replication between the regions' moto tables, after `lag` (± `jitter`) seconds."""

    def __init__(self, regions: tuple[str, ...], clock, lag: float, *, jitter: float = 0.0, seed: int = 0):
        self.regions, self.clock, self.lag, self.jitter = regions, clock, lag, jitter
        self.random = random.Random(seed)
        self.position = dict.fromkeys(regions, 0)
        self.replicated_in: dict[str, set[int]] = {r: set() for r in regions}  # stream positions we wrote
        self.pending: list[_Delivery] = []
        self.last_write: dict[tuple[str, tuple[str, str]], tuple[float, int]] = {}
        self.cut: set[tuple[str, str]] = set()  # (source, target) links that do not deliver
        self.down: set[str] = set()
        self.ticks = itertools.count()

    def _delay(self) -> float:
        return max(0.0, self.lag + self.random.uniform(-self.jitter, self.jitter))

    def observe(self) -> None:
        """Stamp new local writes with the current time and schedule them for the other regions."""
        for region in self.regions:
            records = shard(region).items
            for index in range(self.position[region], len(records)):
                if index in self.replicated_in[region]:
                    continue
                record = records[index].record
                image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage")
                stamp = (self.clock.now, next(self.ticks))
                self.last_write[(region, key_of(image))] = stamp
                for target in self.regions:
                    if target != region:
                        heapq.heappush(
                            self.pending, _Delivery(self.clock.now + self._delay(), stamp[1], region, target, record, stamp)
                        )
            self.position[region] = len(records)

    def blocked(self, source: str, target: str) -> bool:
        return (source, target) in self.cut or source in self.down or target in self.down

    def deliver_due(self) -> None:
        held = []
        while self.pending and self.pending[0].due <= self.clock.now:
            delivery = heapq.heappop(self.pending)
            if self.blocked(delivery.source, delivery.target):
                held.append(delivery)
                continue
            self._apply(delivery)
        for delivery in held:
            delivery.due = self.clock.now + self._delay()
            heapq.heappush(self.pending, delivery)

    def _apply(self, delivery: _Delivery) -> None:
        record = delivery.record["dynamodb"]
        image = record.get("NewImage") or record.get("OldImage")
        key = key_of(image)
        if self.last_write.get((delivery.target, key), (-1.0, -1)) > delivery.written_at:
            return  # the target holds a later write of this item: last writer wins
        self.last_write[(delivery.target, key)] = delivery.written_at
        target = backend(delivery.target)
        if delivery.record["eventName"] == "REMOVE":
            target.delete_item(TABLE, {"pk": {"S": key[0]}, "sk": {"S": key[1]}})
        else:
            target.put_item(TABLE, record["NewImage"])
        stream = shard(delivery.target)
        self.replicated_in[delivery.target].add(len(stream.items) - 1)
        if self.position[delivery.target] == len(stream.items) - 1:
            self.position[delivery.target] += 1

    def idle(self) -> bool:
        return not self.pending

    def originated(self, region: str) -> list[dict]:
        """The stream records of writes made in `region` itself (not replicated into it)."""
        return [r.record for i, r in enumerate(shard(region).items) if i not in self.replicated_in[region]]
