"""Write intents: one conditional write, applied by the API directly or later by the retry consumer.

The API builds an intent for every write and applies it. When DynamoDB still refuses after the
SDK's retries (throttling, 5xx, timeouts), the API publishes the same intent to the region's
write-retry topic and answers 202; the retry consumer applies it again, idempotently by
`request_id`. One function does the write in both places, so the retried write is exactly the
write the API would have made.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from shared.items import json_default

Operation = Literal["create", "update", "delete"]
OPERATIONS: tuple[str, ...] = ("create", "update", "delete")

# Error codes that mean "not now" rather than "not this": worth retrying later.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


class ConflictError(Exception):
    """The item's version is not the expected one (or a create found the item already there)."""


class InvalidIntent(ValueError):
    """A message that is not a write intent; never retried."""


@dataclass(frozen=True)
class WriteIntent:
    request_id: str
    op: Operation
    key: dict[str, str]
    item: dict[str, Any] | None = None
    expected_version: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=json_default, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WriteIntent:
        """Parse an intent from a queue message, refusing anything malformed (it is untrusted input)."""
        try:
            data = json.loads(text, parse_float=Decimal)
        except (TypeError, ValueError) as error:
            raise InvalidIntent(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidIntent("not a JSON object")
        request_id, op, key = data.get("request_id"), data.get("op"), data.get("key")
        if not isinstance(request_id, str) or not request_id:
            raise InvalidIntent("request_id: a non-empty string is required")
        if op not in OPERATIONS:
            raise InvalidIntent(f"op: one of {', '.join(OPERATIONS)} is required")
        if not isinstance(key, dict) or set(key) != {"pk", "sk"} or not all(isinstance(v, str) for v in key.values()):
            raise InvalidIntent("key: {pk, sk} strings are required")
        item, expected = data.get("item"), data.get("expected_version")
        if op != "delete" and (not isinstance(item, dict) or {k: item.get(k) for k in ("pk", "sk")} != key):
            raise InvalidIntent("item: an object with the same pk/sk as key is required")
        if op != "create" and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 1):
            raise InvalidIntent("expected_version: a positive integer is required")
        return cls(request_id=request_id, op=op, key=key, item=item, expected_version=expected)


def is_transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in TRANSIENT_CODES
    # Connection failures and timeouts after the SDK's own retries.
    return isinstance(error, BotoCoreError)


def apply(table, intent: WriteIntent) -> None:
    """Perform the intent's conditional write on `table` (a boto3 Table)."""
    try:
        if intent.op == "create":
            table.put_item(Item=intent.item, ConditionExpression="attribute_not_exists(pk)")
        elif intent.op == "update":
            table.put_item(
                Item=intent.item,
                ConditionExpression="attribute_exists(pk) AND version = :expected",
                ExpressionAttributeValues={":expected": intent.expected_version},
            )
        else:
            table.delete_item(
                Key=intent.key,
                ConditionExpression="attribute_exists(pk) AND version = :expected",
                ExpressionAttributeValues={":expected": intent.expected_version},
            )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConflictError(intent.key["pk"]) from None
        raise
