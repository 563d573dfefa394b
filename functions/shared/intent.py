"""A write intent as a message: what the API publishes when it defers a write, sealed and scoped.

The write-retry topic and queue are reachable by anything in the account the account's IAM lets
publish, so the consumer trusts no message for what it says. Two checks stand between a message
and the table:

- **the seal**: the API seals every intent it publishes with an HMAC under the signing key (the key
  it already signs write ids and cursors with, the same in every region). A message without the
  seal, or with any field changed after sealing, is `Forged`.
- **the scope**: even a sealed intent may only touch what its route writes: `POST /posts` creates
  a `POST#<id>` item whose id is derived from the write id, `PUT`/`DELETE /posts/{id}` change a
  `POST#` item's title, body and tags, `POST /subscribers` creates the `SUB#<email>` item of that
  address, `POST /purchases` a `PURCHASE#<reader>`/`ITEM#<post id>` item (or, with the relational store on, a
  row of its ledger: shared/ledger.py) for that reader and item. Anything else (`CONTROL#`, `REQ#`, `SUPPRESS#`, `VIEWS#`, another kind or field) is
  `OutOfScope`. The scope is checked as well as the seal: a bug in the API could seal an intent
  it should never have built.

Both are refusals of the message, never retried into success: the consumer counts them
(`IntentsRefused`, alarmed) and logs them with the message id.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

from shared import signing
from shared.items import json_default, purchase_key

Kind = Literal["create", "subscribe", "update", "delete", "purchase"]
KINDS: tuple[str, ...] = ("create", "subscribe", "update", "delete", "purchase")
# Kinds that carry the whole item (the others carry changes or nothing).
WHOLE_ITEM_KINDS = ("create", "subscribe", "purchase")
MAX_VERSION = 10**18 - 1
SEAL_PURPOSE = "intent"
_POST_KEY = re.compile(r"POST#[0-9a-f]{32}")
_SUB_KEY = re.compile(r"SUB#[^#\s]{3,254}")
_PURCHASE_KEY = re.compile(r"PURCHASE#[^#\s]{3,254}")
_PURCHASED_ITEM = re.compile(r"ITEM#[0-9a-f]{32}")


class InvalidIntent(ValueError):
    """A message that is not a write intent; never retried into success."""


class Forged(InvalidIntent):
    """No seal, or a seal that does not match the message: the API did not publish it as it is."""


class OutOfScope(InvalidIntent):
    """A sealed intent that would write outside what its route may write."""


@dataclass(frozen=True)
class Scope:
    kind: str
    key: re.Pattern[str]
    sort_key: str | re.Pattern[str]  # the one sort key, or the shape of any it may write
    item_fields: frozenset[str]  # create/subscribe: the item's attributes; update: what may change


SCOPES: dict[str, Scope] = {
    "POST /posts": Scope(
        "create",
        _POST_KEY,
        "POST",
        frozenset({"pk", "sk", "id", "title", "body", "tags", "premium", "created_at", "gsi1pk", "gsi1sk"}),
    ),
    "PUT /posts/{id}": Scope("update", _POST_KEY, "POST", frozenset({"title", "body", "tags", "premium"})),
    "DELETE /posts/{id}": Scope("delete", _POST_KEY, "POST", frozenset()),
    "POST /subscribers": Scope("subscribe", _SUB_KEY, "SUB", frozenset({"pk", "sk", "email", "subscribed_at"})),
    "POST /purchases": Scope(
        "purchase", _PURCHASE_KEY, _PURCHASED_ITEM, frozenset({"pk", "sk", "reader", "item", "purchased_at"})
    ),
}


@dataclass(frozen=True)
class WriteIntent:
    write_id: str
    route: str
    body_hash: str
    kind: Kind
    key: dict[str, str]
    item: dict[str, Any] | None = None  # create/subscribe: the whole item; update: the changes
    expected_version: int | None = None
    accepted_region: str = ""
    accepted_at: str = ""

    def fields(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        """The intent as the API publishes it: its fields and their seal."""
        fields = self.fields()
        return json.dumps({**fields, "seal": seal_of(fields)}, default=json_default, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WriteIntent:
        """Parse, check the scope and verify the seal of an untrusted queue message."""
        data = _parse(text)
        seal = data.pop("seal", None)
        intent = _from_fields(data)
        check_scope(intent)
        if not isinstance(seal, str) or not signing.verify_mac(SEAL_PURPOSE, _canonical(intent.fields()), seal):
            raise Forged("the intent's seal is missing or does not match its fields")
        return intent


def seal_of(fields: dict[str, Any]) -> str:
    return signing.mac(SEAL_PURPOSE, _canonical(fields))


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, default=json_default, sort_keys=True, separators=(",", ":"))


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except (TypeError, ValueError) as error:
        raise InvalidIntent(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidIntent("not a JSON object")
    return data


def _from_fields(data: dict[str, Any]) -> WriteIntent:
    unknown = set(data) - set(WriteIntent.__dataclass_fields__)
    if unknown:
        raise InvalidIntent(f"unknown field(s): {', '.join(sorted(unknown))}")
    for name in ("write_id", "route", "body_hash", "accepted_region", "accepted_at"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise InvalidIntent(f"{name}: a non-empty string is required")
    kind, key, item, expected = data.get("kind"), data.get("key"), data.get("item"), data.get("expected_version")
    if kind not in KINDS:
        raise InvalidIntent(f"kind: one of {', '.join(KINDS)} is required")
    if not isinstance(key, dict) or set(key) != {"pk", "sk"} or not all(isinstance(v, str) for v in key.values()):
        raise InvalidIntent("key: {pk, sk} strings are required")
    if kind in WHOLE_ITEM_KINDS and (not isinstance(item, dict) or {k: item.get(k) for k in ("pk", "sk")} != key):
        raise InvalidIntent("item: an object with the same pk/sk as key is required")
    if kind == "update" and (not isinstance(item, dict) or not item or {"pk", "sk"} & set(item)):
        raise InvalidIntent("item: the changed attributes (not the key) are required")
    if kind in ("update", "delete") and (
        not isinstance(expected, int) or isinstance(expected, bool) or not 1 <= expected <= MAX_VERSION
    ):
        raise InvalidIntent("expected_version: a positive integer is required")
    if kind in WHOLE_ITEM_KINDS and expected is not None:
        raise InvalidIntent("expected_version: only updates and deletes expect a version")
    if kind == "delete" and item is not None:
        raise InvalidIntent("item: a delete carries no attributes")
    return WriteIntent(**data)


def check_scope(intent: WriteIntent) -> None:
    """Refuse an intent that writes outside what its route writes (OutOfScope)."""
    scope = SCOPES.get(intent.route)
    if scope is None:
        raise OutOfScope(f"route {intent.route!r} makes no deferred writes")
    if intent.kind != scope.kind:
        raise OutOfScope(f"{intent.route} makes {scope.kind} intents, not {intent.kind}")
    sort_key_fits = (
        scope.sort_key.fullmatch(intent.key["sk"])
        if isinstance(scope.sort_key, re.Pattern)
        else intent.key["sk"] == scope.sort_key
    )
    if not scope.key.fullmatch(intent.key["pk"]) or not sort_key_fits:
        raise OutOfScope(f"{intent.route} may not write the item {intent.key['pk'][:80]}/{intent.key['sk'][:20]}")
    fields = set(intent.item or {})
    if not fields <= scope.item_fields:
        raise OutOfScope(f"{intent.route} may not write {', '.join(sorted(fields - scope.item_fields))}")
    if intent.kind == "create":
        post_id = intent.key["pk"].split("#", 1)[1]
        if intent.item.get("id") != post_id or post_id != signing.derived_hex(intent.write_id, "post"):
            raise OutOfScope("a created post's id is derived from its write id")
    if intent.kind == "subscribe" and intent.key["pk"] != f"SUB#{str(intent.item.get('email', '')).lower()}":
        raise OutOfScope("a subscriber item belongs to its own address")
    if intent.kind == "purchase" and intent.key != purchase_key(str(intent.item.get("reader", "")), str(intent.item.get("item"))):
        raise OutOfScope("a purchase belongs to its own reader and item")
