"""POST /premium/session in a region's API: a signed-in reader who owns a post gets cookies for
its premium media (shared/premium_session.py decides the answer).

Everything it reads is in its own region, so a session is issued while any one region, the
user pool's included, is gone:
- the reader's token is checked against the pool's keys as this region's replica of the global
  table keeps them (`READERKEYS#<pool>`): the first fetch from the pool, in any region, stores
  them there (shared/reader_tokens.py's `remember`);
- the entitlement is the `PURCHASE#<address>`/`ITEM#<post>` item of the local replica, or the
  relational ledger's row when that store is on;
- the private key and its CloudFront key id are this region's replica of the signing-key secret
  (JSON, so a rotation changes both at once), read once per execution environment.

Environment (set only when paidContent is on; the route answers 404 otherwise):
READER_TOKEN_ISSUER, READER_CLIENT_ID, READER_JWKS_URL, PREMIUM_SIGNING_KEY_SECRET, PREMIUM_SITE_ORIGIN, PREMIUM_COOKIE_DOMAIN, PREMIUM_COOKIE_SECONDS; and
PREMIUM_TEST_PURCHASES=on for POST /premium/purchases (a reader unlocks a post without payment).
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import replace
from typing import Any

from api.errors import ApiError
from aws_lambda_powertools import Logger
from shared import aws, clock, data_api, ledger
from shared.items import is_live, now_iso, purchase_key
from shared.premium_session import SessionAnswer, SessionSettings, issue
from shared.reader_tokens import Reader, TokenRefused, TokenSettings, verify
from shared.signed_media import SigningKey

logger = Logger(service="api")

PATH_PREFIX = "/premium/"
KEPT_KEYS_SECONDS = 300  # how long an environment trusts its read of the kept key set
RETRY_AFTER_SECONDS = 5


class Unavailable(Exception):
    """Nothing is wrong with the request: this region cannot answer it now (503, Retry-After)."""


def enabled() -> bool:
    return bool(os.environ.get("PREMIUM_SIGNING_KEY_SECRET"))


def session(token: str | None, item: object, table) -> SessionAnswer:
    """The answer to a reader asking for `item`'s media; 404 when this stack sells nothing."""
    if not enabled():
        raise ApiError(404, "not_found", "paid content is off in this stack (paidContent)")
    try:
        key = _signing_key()
    except Exception as error:  # a region added later without its replica, or access refused: alarm-worthy
        logger.error("the signing key could not be read", extra={"cause": repr(error)[:300]})
        raise Unavailable("premium media cannot be signed in this region now; retry") from None
    return issue(
        token,
        item,
        tokens=_token_settings(table),
        entitled=lambda reader, wanted: _owns(table, reader, wanted),
        key=key,
        settings=_session_settings(),
        now=clock.now(),
    )


def test_buyer(token: str | None, table) -> str:
    """The verified address a test purchase is made for, or the ApiError to answer."""
    if not enabled() or os.environ.get("PREMIUM_TEST_PURCHASES") != "on":
        raise ApiError(404, "not_found", "test purchases are off in this stack (premiumTestPurchases)")
    try:
        reader = verify(token, _token_settings(table))
    except TokenRefused as refused:
        raise ApiError(401, "unauthorized", str(refused)) from None
    if reader.email is None:
        raise ApiError(401, "unauthorized", "the token names no verified email address")
    return reader.email


def _owns(table, reader: Reader, item: str) -> bool:
    """The entitlement decides, not the token's groups. A reader is known by the address the
    pool verified; a token without one owns nothing."""
    if reader.email is None:
        return False
    if data_api.enabled():
        try:
            return any(p["item"] == item for p in ledger.purchases_of(reader.email))
        except data_api.DatabaseBusy as busy:
            raise Unavailable("the database is resuming or moving; retry") from busy
    return is_live(table.get_item(Key=purchase_key(reader.email, item)).get("Item"))


def purchases_in_table(table, reader: str) -> list[dict[str, str]]:
    """A reader's purchases as this region's replica holds them, oldest first (at most the
    ledger's 500, so either store answers the same shape)."""
    from boto3.dynamodb.conditions import Key

    key = purchase_key(reader, "")
    found = table.query(KeyConditionExpression=Key("pk").eq(key["pk"]) & Key("sk").begins_with(key["sk"]), Limit=500)["Items"]
    owned = [{"item": i["item"], "purchased_at": i["purchased_at"]} for i in found if is_live(i)]
    return sorted(owned, key=lambda p: (p["purchased_at"], p["item"]))


@functools.cache
def _signing_key() -> SigningKey:
    secret = aws.client("secretsmanager").get_secret_value(SecretId=os.environ["PREMIUM_SIGNING_KEY_SECRET"])
    value = json.loads(secret["SecretString"])
    return SigningKey(key_pair_id=value["key_pair_id"], private_key_pem=value["private_key_pem"].encode())


def _session_settings() -> SessionSettings:
    return SessionSettings(
        site_origin=os.environ["PREMIUM_SITE_ORIGIN"],
        cookie_domain=os.environ["PREMIUM_COOKIE_DOMAIN"],
        path_prefix=PATH_PREFIX,
        ttl_seconds=int(os.environ["PREMIUM_COOKIE_SECONDS"]),
    )


# --- the pool's keys, kept in the table -------------------------------------------------------

_kept: dict[str, tuple[float, dict[str, Any]]] = {}  # issuer -> (read at, set)


def reset_cache() -> None:
    """A new world (tests): the key and the kept key set are read again."""
    _signing_key.cache_clear()
    _kept.clear()


def kept_keys_key(issuer: str) -> dict[str, str]:
    return {"pk": f"READERKEYS#{issuer.rsplit('/', 1)[-1]}", "sk": "JWKS"}


def _token_settings(table) -> TokenSettings:
    settings = TokenSettings.from_environment()
    kept = _kept_keys(table, settings.issuer)
    return replace(
        settings,
        keys={"keys": [*settings.keys.get("keys", []), *kept.get("keys", [])]},
        remember=lambda keys: _keep(table, settings.issuer, keys),
    )


def _kept_keys(table, issuer: str) -> dict[str, Any]:
    read_at, keys = _kept.get(issuer, (-float("inf"), {}))
    if time.monotonic() - read_at < KEPT_KEYS_SECONDS:
        return keys
    try:
        item = table.get_item(Key=kept_keys_key(issuer)).get("Item")
        keys = json.loads(item["jwks"]) if item else {}
    except Exception as error:  # a failed read leaves the pool's own set to fetch
        logger.warning("the kept reader keys could not be read", extra={"cause": repr(error)[:300]})
    _kept[issuer] = (time.monotonic(), keys)
    return keys


def _keep(table, issuer: str, keys: dict[str, Any]) -> None:
    """Store the set fetched from the pool for every region's cold start (replicated with the
    table). Best effort: the token being checked does not depend on it."""
    try:
        table.put_item(Item={**kept_keys_key(issuer), "jwks": json.dumps(keys, sort_keys=True), "kept_at": now_iso()})
        _kept[issuer] = (time.monotonic(), keys)
    except Exception as error:
        logger.warning("the reader keys could not be kept", extra={"cause": repr(error)[:300]})
