"""Accepted writes: one intent, applied once, where the write mode says, with its fate recorded.

A write is described by a `WriteIntent`: what to write (create, subscribe, update, delete), the
version it expects, and the identity of the request (`write_id`, derived from the route and the
caller's Idempotency-Key; `body_hash`, the canonical request). The API applies it at once; when
that fails transiently it publishes the same intent and the write-retry consumer applies it
later. Both call `apply`, so the deferred write is exactly the write the API would have made.

Where: in single-primary mode the target is the primary's replica and the write is one
TransactWriteItems of three parts: a fence (the control item still names this primary and
epoch, shared/control.py), the conditional data write, and the request record `REQ#<write_id>`
(created only if absent). In any-region mode (MRSC, which has no transactions) the data write
goes to the local replica and the record follows it.

Once: every item written carries the write_id and body_hash of the request that last wrote it.
A retry of an applied write (the SDK retrying after a lost response, a client retrying with the
same key, the consumer redelivered) meets either the request record or its own stamp on the item
and is answered with the first outcome instead of being applied again or refused as a conflict.
The same key with a different request is a `KeyReuse`.

The fate of every write the consumer handles is recorded: applied (the record written with the
write), rejected with a reason (the post changed since version N, the post is gone, the key was
reused), or dead-lettered (recorded on the last delivery before the DLQ).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shared import aws, clock, confirm, control, data_api, deadline, ledger, lineage
from shared.intent import WHOLE_ITEM_KINDS, WriteIntent
from shared.items import expiry, is_live, json_default, now_iso, public_post, request_key

State = Literal["applied", "rejected", "dead_lettered"]
REQUEST_RECORD_DAYS = 7  # how long a key is remembered: the Idempotency-Key retention window
TOMBSTONE_DAYS = 7
# Parts of a write that DynamoDB refuses because of our own request, not because of load.
BUG_CODES = frozenset({"ValidationException", "SerializationException", "UnknownOperationException"})


class KeyReuse(Exception):
    """The Idempotency-Key was used before for a different request on this route."""

    def __init__(self, route: str):
        super().__init__(f"this Idempotency-Key was already used for a different {route} request")


class StaleEpoch(Exception):
    """The replica refused the write: the primary moved since this region last looked."""


@dataclass(frozen=True)
class Outcome:
    state: State
    http_status: int
    body: dict[str, Any] | None
    reason: str | None = None

    def to_record(self) -> dict[str, Any]:
        record = {"state": self.state, "http_status": self.http_status, "body": json.dumps(self.body, default=json_default)}
        if self.reason:
            record["reason"] = self.reason
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Outcome:
        body = record.get("body")
        return cls(
            state=record["state"],
            http_status=int(record["http_status"]),
            body=json.loads(body) if isinstance(body, str) else None,
            reason=record.get("reason"),
        )


def body_hash(request: dict[str, Any]) -> str:
    """The canonical request: what makes two requests under one key 'the same'."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":"), default=json_default).encode()).hexdigest()


def should_defer(error: BaseException) -> bool:
    """Defer (202 + intent) rather than fail: load, outages, timeouts, a moved primary, and any
    refusal that is not our own malformed request. A deferred write that can never apply ends
    rejected or dead-lettered with a record and an alarm; a 500 would lose it."""
    from botocore.exceptions import ClientError

    if isinstance(error, (StaleEpoch, control.NoPrimary, confirm.Unconfirmed, data_api.DatabaseBusy)) or aws.is_transient(error):
        return True
    return isinstance(error, ClientError) and aws.error_code(error) not in BUG_CODES


# --- the outcome of each kind ---------------------------------------------------------------


def _success(intent: WriteIntent, item: dict[str, Any] | None) -> Outcome:
    if intent.kind == "create":
        return Outcome("applied", 201, public_post(item or intent.item))
    if intent.kind == "subscribe":
        return Outcome("applied", 201, {"email": intent.item["email"], "status": "subscribed"})
    if intent.kind == "purchase":
        owned = item or intent.item
        return Outcome("applied", 201, {k: owned[k] for k in ("reader", "item", "purchased_at")})
    if intent.kind == "update":
        return Outcome("applied", 200, public_post(item))
    return Outcome("applied", 204, None)


def _on_existing(intent: WriteIntent, old: dict[str, Any] | None) -> Outcome | None:
    """The outcome when the data condition failed against `old`, or None to try again."""
    if old and old.get("write_id") == intent.write_id:
        if old.get("write_hash") != intent.body_hash:
            raise KeyReuse(intent.route)
        return _success(intent, old)  # our own earlier attempt was applied
    made = 1 if intent.kind in WHOLE_ITEM_KINDS else (intent.expected_version or 0) + 1
    if lineage.made_by(old, made, intent.write_id):
        # Our earlier attempt was applied and later writes built on it (after a failover, its
        # record may be the only thing that did not arrive).
        return _success(intent, {**old, "version": made} if intent.kind == "update" else old)
    what = intent.key["pk"].split("#", 1)[0].lower()
    if intent.kind == "subscribe" and is_live(old):
        return Outcome("applied", 200, {"email": intent.item["email"], "status": "already_subscribed"})
    if intent.kind in WHOLE_ITEM_KINDS:
        return Outcome("rejected", 409, {"error": "conflict", "message": f"{what} already exists"}, f"{what} already exists")
    if not is_live(old):
        return Outcome("rejected", 404, {"error": "not_found", "message": f"{what} not found"}, f"the {what} does not exist")
    current = int(old["version"])
    if current != intent.expected_version:
        message = f"the {what} changed since version {intent.expected_version} (now {current}); read it again"
        return Outcome("rejected", 409, {"error": "conflict", "message": message, "version": current}, message)
    return None


# --- DynamoDB requests ------------------------------------------------------------------------


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(_dynamo_value(v)) for k, v in item.items()}


def _deserialize(item: dict[str, Any] | None) -> dict[str, Any] | None:
    from boto3.dynamodb.types import TypeDeserializer

    if not item:
        return None
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def _dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo_value(v) for v in value]
    return value


def _stamp(intent: WriteIntent, epoch: int, version: int) -> dict[str, Any]:
    return {
        "write_id": intent.write_id,
        "write_hash": intent.body_hash,
        "epoch": epoch,
        "version": version,
        "origin_region": intent.accepted_region,
        "updated_at": now_iso(),
    }


def _data_request(
    intent: WriteIntent, table_name: str, current: dict[str, Any] | None, epoch: int
) -> tuple[str, dict, dict | None]:
    """(Put | Update, parameters, the item as written) of the conditional data write."""
    base = {"TableName": table_name, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if intent.kind in WHOLE_ITEM_KINDS:
        item = {**intent.item, **_stamp(intent, epoch, 1), lineage.ATTRIBUTE: lineage.extended(None, 1, intent.write_id)}
        return "Put", {**base, "Item": _serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}, item
    expected = {":expected": intent.expected_version}
    version = intent.expected_version + 1
    if intent.kind == "update":
        merged = {
            **current,
            **intent.item,
            **_stamp(intent, epoch, version),
            lineage.ATTRIBUTE: lineage.extended(current, version, intent.write_id),
        }
        request = {
            **base,
            "Item": _serialize(merged),
            "ConditionExpression": "version = :expected AND attribute_not_exists(deleted)",
            "ExpressionAttributeValues": _serialize(expected),
        }
        return "Put", request, merged
    # delete: a tombstone, so a retried delete recognises its own stamp and a lagging replica
    # cannot resurrect the post; it leaves the listing index at once and expires later.
    sets = {**_stamp(intent, epoch, version), "deleted": True}
    ttl = expiry(TOMBSTONE_DAYS)
    if ttl is not None:
        sets["expires_at"] = ttl
    # A tombstone is never written again, so its lineage grows by this one entry only.
    lineage_update = "#lineage = list_append(if_not_exists(#lineage, :no_lineage), :lineage)"
    request = {
        **base,
        "Key": _serialize(intent.key),
        "UpdateExpression": "SET "
        + ", ".join([*(f"#{k} = :{k}" for k in sets), lineage_update])
        + " REMOVE gsi1pk, gsi1sk, title, body, tags",
        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(deleted) AND version = :expected",
        "ExpressionAttributeNames": {**{f"#{k}": k for k in sets}, "#lineage": lineage.ATTRIBUTE},
        "ExpressionAttributeValues": _serialize(
            {
                **{f":{k}": v for k, v in sets.items()},
                **expected,
                ":no_lineage": [],
                ":lineage": [lineage.entry(version, intent.write_id)],
            }
        ),
    }
    return "Update", request, None


def _record_item(intent: WriteIntent, outcome: Outcome, region: str, epoch: int, variant: str | None = None) -> dict:
    record = {
        **request_key(intent.write_id, variant),
        "route": intent.route,
        "body_hash": intent.body_hash,
        "accepted_region": intent.accepted_region,
        "accepted_at": intent.accepted_at,
        "applied_region": region,
        "epoch": epoch,
        "decided_at": now_iso(),
        **outcome.to_record(),
    }
    version = confirm.produced_version(intent.kind, intent.expected_version, outcome.body)
    if outcome.state == "applied" and version is not None:
        # What confirms the write elsewhere, and checks it against its item later: the item and
        # the version this write made of it.
        record.update(item_pk=intent.key["pk"], item_sk=intent.key["sk"], item_version=version)
    ttl = expiry(REQUEST_RECORD_DAYS)
    if ttl is not None:
        record["expires_at"] = ttl
    return record


def _record_if_undecided(epoch: int) -> dict[str, Any]:
    """A request record is written once. A dead-letter mark gives way to the real outcome, and so
    does an `applied` from an older epoch: a write decided again after the primary moved (its old
    record is stale when its item's lineage says another write took that version)."""
    return {
        "ConditionExpression": "attribute_not_exists(pk) OR #state = :dead OR (#state = :applied AND #epoch < :epoch)",
        "ExpressionAttributeNames": {"#state": "state", "#epoch": "epoch"},
        "ExpressionAttributeValues": {":dead": {"S": "dead_lettered"}, ":applied": {"S": "applied"}, ":epoch": {"N": str(epoch)}},
    }


def _low_level(region: str):
    """The plain DynamoDB client: transactions and ALL_OLD-on-failure items in DynamoDB JSON (the
    resource's own client would serialise the already-serialised values a second time)."""
    return aws.client("dynamodb", region=region)


def _read(table, key: dict[str, str]) -> dict[str, Any] | None:
    return table.get_item(Key=key, ConsistentRead=True).get("Item")


def _replayed(intent: WriteIntent, record: dict[str, Any] | None) -> Outcome | None:
    if not record:
        return None
    if record.get("body_hash") != intent.body_hash:
        raise KeyReuse(intent.route)
    if record.get("state") == "dead_lettered":
        return None  # an operator redrove it: apply now
    return Outcome.from_record(record)


# --- applying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    region: str
    primary: control.Primary | None  # None in any-region mode: no fence

    @property
    def epoch(self) -> int:
        return self.primary.epoch if self.primary else 0


def target(refresh: bool = False) -> Target:
    """Where table writes go now; NoPrimary when a lease is needed and none is usable."""
    if control.write_mode() == control.ANY_REGION:
        return Target(aws.local_region(), None)
    primary = control.usable_primary(refresh=refresh)
    return Target(primary.region, primary)


def apply(intent: WriteIntent) -> Outcome:
    """Apply `intent` once, and with a write lease wait until the in-sync regions hold it
    (shared/confirm.py). Raises what `should_defer` accepts when it cannot be decided or
    acknowledged now, and KeyReuse when the key was used for another request on the route."""
    if intent.kind == "purchase" and data_api.enabled():
        return _purchase(intent)  # the ledger's row; with the relational store off, the table's item
    where = target()
    for _attempt in range(3):
        try:
            outcome = _apply_at(intent, where)
        except StaleEpoch:
            where = _after_refusal(where)
            continue
        _confirm(intent, outcome, where)
        return outcome
    raise StaleEpoch(f"the primary kept moving while {intent.write_id} was applied")


def _purchase(intent: WriteIntent) -> Outcome:
    """A row of the relational ledger, once (shared/ledger.py decides replays), and the request's
    record in the table so GET /writes/{id} tells a deferred purchase's fate."""
    try:
        status, body = ledger.purchase(intent.write_id, intent.body_hash, intent.item["reader"], intent.item["item"])
    except ledger.KeyReuse:
        raise KeyReuse(intent.route) from None
    outcome = Outcome("applied", status, body) if status == 201 else Outcome("rejected", status, body, body["message"])
    record(intent, outcome)
    return outcome


def _after_refusal(refused: Target) -> Target:
    """Where to write after the fence refused: what the local replica knows now, or, when it has
    no news (a change at the primary that has not replicated here yet), the primary's own view."""
    where = target(refresh=True)
    if where.primary != refused.primary or where.primary is None or where.primary.lease_until_ms is None:
        return where
    primary = control.at_primary(refused.region)
    if primary is None or not primary.usable(clock.now_ms()):
        raise control.NoPrimary(f"the write lease of {refused.region} changed and none is usable now")
    return Target(primary.region, primary)


def _confirm(intent: WriteIntent, outcome: Outcome, where: Target) -> None:
    if outcome.state != "applied" or where.primary is None or where.primary.lease_until_ms is None:
        return
    version = confirm.produced_version(intent.kind, intent.expected_version, outcome.body)
    if version is not None:
        confirm.confirm(intent.key, version, intent.write_id, where.primary)


class _DataConflict(Exception):
    def __init__(self, old: dict[str, Any] | None):
        self.old = old


class _Replayed(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _apply_at(intent: WriteIntent, where: Target) -> Outcome:
    table = aws.table(os.environ["TABLE_NAME"], region=where.region)
    if where.primary is None:
        # No transaction to carry the record (MRSC): look for it first; reads there are strong.
        replay = _replayed(intent, _read(table, request_key(intent.write_id)))
        if replay is not None:
            return replay
    for _attempt in range(3):
        current = None
        if intent.kind == "update":
            current = _read(table, intent.key)
            decided = _on_existing(intent, current)
            if decided is not None:
                return _recorded_if_applied(intent, decided, where)
        kind, request, written = _data_request(intent, table.name, current, where.epoch)
        outcome = _success(intent, written)
        try:
            if where.primary is None:
                _write_then_record(table, kind, request, intent, outcome, where)
            else:
                _write_with_record(table, kind, request, intent, outcome, where)
            return outcome
        except _Replayed as replayed:
            return replayed.outcome
        except _DataConflict as conflict:
            decided = _on_existing(intent, conflict.old)
            if decided is not None:
                return _recorded_if_applied(intent, decided, where)
    raise _retry_later(intent)


def _retry_later(intent: WriteIntent) -> Exception:
    from botocore.exceptions import ClientError

    message = f"{intent.key['pk']} kept changing while {intent.write_id} was applied"
    return ClientError({"Error": {"Code": "TransactionConflictException", "Message": message}}, "TransactWriteItems")


def _write_with_record(table, kind: str, request: dict, intent: WriteIntent, outcome: Outcome, where: Target) -> None:
    from botocore.exceptions import ClientError

    def items() -> list[dict]:
        return [
            control.fence(table.name, where.primary),  # per attempt: it reads the clock
            {kind: request},
            {
                "Put": {
                    "TableName": table.name,
                    "Item": _serialize(_record_item(intent, outcome, where.region, where.epoch)),
                    **_record_if_undecided(where.epoch),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]

    try:
        transact_fenced(where.region, items)
    except ClientError as error:
        if aws.error_code(error) != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or []
        codes = [r.get("Code") for r in reasons]
        if len(codes) != 3 or any(c not in ("None", "ConditionalCheckFailed") for c in codes):
            raise  # throttling, a conflicting transaction: transient, the caller defers
        if codes[0] == "ConditionalCheckFailed":
            raise StaleEpoch(where.region) from None
        data = None
        if codes[1] == "ConditionalCheckFailed":
            # The item as it stood (ALL_OLD), or read it: what decides is whose write it shows.
            data = _deserialize(reasons[1].get("Item")) or _read(table, intent.key)
        if codes[2] == "ConditionalCheckFailed":
            existing = _deserialize(reasons[2].get("Item")) or _read(table, request_key(intent.write_id))
            replay = _replayed(intent, existing)
            if replay is not None:
                data = data if data is not None else _read(table, intent.key)
                if not _superseded(existing, data, intent.write_id):
                    raise _Replayed(replay) from None
        raise _DataConflict(data) from None


def _superseded(record: dict[str, Any], item: dict[str, Any] | None, write_id: str) -> bool:
    """A record that says applied while its item's lineage gives that version to another write."""
    if record.get("state") != "applied" or "item_version" not in record:
        return False
    return lineage.verdict(item, int(record["item_version"]), write_id) == "superseded"


def transact_fenced(region: str, build: Callable[[], list[dict]]) -> None:
    """TransactWriteItems with the attempts made here, not by the SDK: each attempt rebuilds the
    items, so a lease fence compares the clock as it is when that attempt is sent. A token per
    attempt's items lets DynamoDB answer a retry of the same attempt (after a lost response) as a
    success; a later attempt is recognised by the request record instead."""
    client = aws.client("dynamodb", region=region, attempts=1)
    for attempt in range(1, aws.MAX_ATTEMPTS + 1):
        items = build()
        token = hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()[:36]
        try:
            client.transact_write_items(TransactItems=items, ClientRequestToken=token)
            return
        except Exception as error:
            backoff = random.random() * 0.025 * 2 ** (attempt - 1)
            if not aws.is_transient(error) or attempt == aws.MAX_ATTEMPTS:
                raise
            if deadline.remaining() < backoff + aws.ATTEMPT_SECONDS:
                raise
            clock.sleep(backoff)


def _write_then_record(table, kind: str, request: dict, intent: WriteIntent, outcome: Outcome, where: Target) -> None:
    from botocore.exceptions import ClientError

    client = _low_level(where.region)
    call = client.put_item if kind == "Put" else client.update_item
    try:
        call(**request)
    except ClientError as error:
        if aws.error_code(error) != "ConditionalCheckFailedException":
            raise
        raise _DataConflict(_deserialize(error.response.get("Item"))) from None
    record(intent, outcome, where)


def _recorded_if_applied(intent: WriteIntent, outcome: Outcome, where: Target) -> Outcome:
    """An outcome decided without a data write (already subscribed, our own earlier write found):
    recording it keeps later retries answering the same. Rejections are recorded by whoever owns
    the caller's answer (the consumer, for deferred writes)."""
    if outcome.state == "applied":
        record(intent, outcome, where)
    return outcome


DEAD_LETTERS = "DEADLETTER"  # the gsi1 partition that lists dead-lettered writes for a redrive


def record(
    intent: WriteIntent,
    outcome: Outcome,
    where: Target | None = None,
    *,
    variant: str | None = None,
    keep_intent: bool = False,
) -> None:
    """Record the fate of `intent` unless one is already recorded (a dead-letter mark may be
    replaced by the real outcome after a redrive). `keep_intent` stores the sealed intent with the
    record and lists it for a redrive (dead letters); with no primary to write to, such a record
    goes to the local replica (a later real outcome, written at a primary, replaces it)."""
    from botocore.exceptions import ClientError

    if where is None:
        try:
            where = target()
        except control.NoPrimary:
            if not keep_intent:
                raise
            where = Target(aws.local_region(), None)
    fields = _record_item(intent, outcome, where.region, where.epoch, variant)
    if keep_intent:
        fields.update(intent=intent.to_json(), gsi1pk=DEAD_LETTERS, gsi1sk=f"{fields['decided_at']}#{intent.write_id}")
    item = _serialize(fields)
    try:
        _low_level(where.region).put_item(TableName=os.environ["TABLE_NAME"], Item=item, **_record_if_undecided(where.epoch))
    except ClientError as error:
        if aws.error_code(error) != "ConditionalCheckFailedException":
            raise


def status(write_id: str, hash_prefix: str) -> dict[str, Any]:
    """What became of a write, from this region's replica (the record replicates within about a
    second of being written at the primary)."""
    table = aws.table(os.environ["TABLE_NAME"])
    found = table.get_item(Key=request_key(write_id)).get("Item")
    if found and not str(found.get("body_hash", "")).startswith(hash_prefix):
        found = table.get_item(Key=request_key(write_id, hash_prefix)).get("Item")
    if not found:
        return {"state": "pending"}
    outcome = Outcome.from_record(found)
    if outcome.state == "applied" and "item_pk" in found:
        item = table.get_item(Key={"pk": found["item_pk"], "sk": found["item_sk"]}).get("Item")
        standing = lineage.verdict(item, int(found["item_version"]), write_id)
        if standing == "superseded":
            reason = "overwritten by another write when the primary moved, before this one was acknowledged"
            return {"state": "rejected", "status": 409, "decided_at": found.get("decided_at"), "reason": reason}
        if standing == "behind" or not _held_everywhere(found, write_id):
            return {"state": "pending", "applied_in": found.get("applied_region"), "replicating": True}
    report = {"state": outcome.state, "status": outcome.http_status, "decided_at": found.get("decided_at")}
    if outcome.body is not None:
        report["result"] = outcome.body
    if outcome.reason:
        report["reason"] = outcome.reason
    return report


def _held_everywhere(record: dict[str, Any], write_id: str) -> bool:
    """An applied write is reported applied once every confirming region holds it (what a 200
    waited for): read-only, without waiting (shared/confirm.py)."""
    if not control.leased():
        return True
    primary = control.current()
    if primary is None:
        return False
    others = sorted((primary.in_sync | primary.joining) - {aws.local_region()})
    key = {"pk": record["item_pk"], "sk": record["item_sk"]}
    return not confirm.lagging(others, key, int(record["item_version"]), write_id, wait_seconds=0)


def _fenced(primary: control.Primary, update: dict) -> list[dict]:
    return [control.fence(update["TableName"], primary), {"Update": update}]


@dataclass(frozen=True)
class Guarded:
    """What a guarded update did: applied, or refused by its condition; `existed` tells a refusal
    by an item that is there (its guard says no) from one by an item that is not there yet (a
    write that has not replicated to the write target)."""

    applied: bool
    existed: bool = True


def guarded_update(
    key: dict[str, str],
    *,
    update: str,
    condition: str,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Guarded:
    """One conditional UpdateItem where the write mode sends table writes (the primary's replica,
    behind the epoch fence; or the local replica with MRSC). Applied, or refused by `condition`
    (with whether the item existed there): the consumers' guard that makes a repeated side effect
    a no-op even when their idempotency store failed."""
    from botocore.exceptions import ClientError

    where = target()
    for _attempt in range(3):
        request = {
            "TableName": os.environ["TABLE_NAME"],
            "Key": _serialize(key),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = _serialize(values)
        try:
            if where.primary is None:
                _low_level(where.region).update_item(**request)
            else:
                transact_fenced(where.region, lambda request=request, primary=where.primary: _fenced(primary, request))
            return Guarded(applied=True)
        except ClientError as error:
            code = aws.error_code(error)
            if code == "ConditionalCheckFailedException":
                return Guarded(applied=False, existed=bool(error.response.get("Item")))
            if code != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if codes[:1] == ["ConditionalCheckFailed"]:
                where = _after_refusal(where)
                continue
            if codes[1:2] == ["ConditionalCheckFailed"] and set(codes) <= {"None", "ConditionalCheckFailed"}:
                return Guarded(applied=False, existed=bool(reasons[1].get("Item")))
            raise
    raise StaleEpoch(f"the primary kept moving while {key['pk']} was updated")
