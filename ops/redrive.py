"""Dead-lettered writes: deferred writes that found no primary within their limit, or that the
table refused outright. Their request record keeps the sealed intent (functions' `writes.record`
with `keep_intent`) and is listed under gsi1 `DEADLETTER`; `sdr writes list` reads them and
`sdr writes redrive` publishes each intent again to the write-retry topic of the region that
accepted it. The retry consumer applies it (or rejects it with its reason) and its outcome
replaces the dead-letter record, so the client polling `GET /writes/{id}` sees the real fate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.writes import DEAD_LETTERS

from ops.errors import OperatorError
from ops.outputs import load_outputs

INDEX = "gsi1"  # the table's index that lists dead letters (stack/data_model.py)


@dataclass(frozen=True)
class DeadLetter:
    write_id: str
    route: str
    accepted_region: str
    accepted_at: str
    decided_at: str
    reason: str
    intent: str  # the sealed intent, as the API published it

    def line(self) -> str:
        return f"{self.write_id}  {self.route}  accepted {self.accepted_at} in {self.accepted_region}  dead {self.decided_at}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        fields = asdict(self)
        fields.pop("intent")
        return fields

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DeadLetter:
        text = {k: v.get("S", "") for k, v in item.items() if isinstance(v, dict)}
        return cls(
            write_id=text.get("pk", "").removeprefix("REQ#"),
            route=text.get("route", ""),
            accepted_region=text.get("accepted_region", ""),
            accepted_at=text.get("accepted_at", ""),
            decided_at=text.get("decided_at", ""),
            reason=text.get("reason", ""),
            intent=text.get("intent", ""),
        )


@dataclass
class DeadLetters:
    region: str
    table: str
    topics: dict[str, str]  # {region: write-retry topic ARN}
    session: Any

    @classmethod
    def from_outputs(cls, stack: str, region: str | None, outputs_file: Path | None, session: Any) -> DeadLetters:
        outputs = load_outputs(stack, outputs_file)
        missing = [k for k in ("tableName", "regions", "writeRetryTopics") if not outputs.get(k)]
        if missing:
            raise OperatorError(f"stack {stack}'s outputs lack {', '.join(missing)}: deploy it first (pulumi up)")
        region = region or outputs.get("homeRegion") or outputs["regions"][0]
        if region not in outputs["regions"]:
            raise OperatorError(f"region {region} is not a region of stack {stack} ({', '.join(outputs['regions'])})")
        return cls(region, outputs["tableName"], dict(outputs["writeRetryTopics"]), session)

    def _items(self) -> Iterator[dict[str, Any]]:
        client = self.session.client("dynamodb", region_name=self.region)
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "gsi1pk = :dead",
            "ExpressionAttributeValues": {":dead": {"S": DEAD_LETTERS}},
        }
        while True:
            page = client.query(**query)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list(self) -> list[DeadLetter]:
        """Oldest first (gsi1sk is the time it died, then its write id)."""
        return [DeadLetter.from_item(item) for item in self._items()]

    def redrive(self, *, write_ids: tuple[str, ...] = (), dry_run: bool = False) -> list[str]:
        letters = self.list()
        if write_ids:
            known = {letter.write_id for letter in letters}
            unknown = [w for w in write_ids if w not in known]
            if unknown:
                raise OperatorError(f"not dead-lettered in {self.region}'s replica: {', '.join(unknown)} (sdr writes list)")
            letters = [letter for letter in letters if letter.write_id in write_ids]
        lines = []
        for letter in letters:
            region = letter.accepted_region if letter.accepted_region in self.topics else self.region
            if dry_run:
                lines.append(f"would send {letter.write_id} ({letter.route}) to {region}'s write-retry topic")
                continue
            kind = json.loads(letter.intent).get("kind", "")
            self.session.client("sns", region_name=region).publish(
                TopicArn=self.topics[region],
                Message=letter.intent,
                MessageAttributes={"kind": {"DataType": "String", "StringValue": kind or "unknown"}},
            )
            lines.append(f"sent {letter.write_id} ({letter.route}) to {region}'s write-retry topic")
        verb = "would redrive" if dry_run else "redrove"
        lines.append(f"{verb} {len(letters)} dead-lettered write(s)")
        return lines
