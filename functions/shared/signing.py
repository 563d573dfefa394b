"""Opaque values the API hands out and later takes back (write ids, listing cursors), and the seal
of the write intents it publishes.

Both are derived or sealed with an HMAC under the signing key, which is the same in every region,
so a client that fails over to another region can present them there. A value this API did not
issue fails verification and is refused as the caller's mistake (400/404), never reaching
DynamoDB.

The key is an SSM SecureString (SIGNING_KEY_PARAMETER names it in each region), read once per
process and kept for KEY_CACHE_SECONDS: a function's environment is shown to anyone allowed
lambda:GetFunctionConfiguration and sits in every deploy's template, so no credential goes there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from shared import aws

WRITE_ID_CHARS = 26  # 130 bits of the HMAC, base32
KEY_CACHE_SECONDS = 3600  # a rotated key reaches every warm function within this
_providers: dict[str, Any] = {}


def _key() -> bytes:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    region = aws.local_region()
    if region not in _providers:
        # On this region's deadline-bound client: reading the key never outlives the request.
        _providers[region] = SSMProvider(boto3_client=aws.client("ssm"))
    return _providers[region].get(os.environ["SIGNING_KEY_PARAMETER"], decrypt=True, max_age=KEY_CACHE_SECONDS).encode()


def reset_cache() -> None:
    _providers.clear()


def _mac(message: str) -> bytes:
    return hmac.new(_key(), message.encode(), hashlib.sha256).digest()


def write_id(route: str, idempotency_key: str) -> str:
    """Stable per route and key: a retried request gets the same id, hence the same effects."""
    return base64.b32encode(_mac(f"write\n{route}\n{idempotency_key}")).decode().lower()[:WRITE_ID_CHARS]


def mac(purpose: str, text: str) -> str:
    """A MAC of `text` for one purpose (a sealed write intent): hex, full length."""
    return _mac(f"{purpose}\n{text}").hex()


def verify_mac(purpose: str, text: str, presented: str) -> bool:
    return isinstance(presented, str) and hmac.compare_digest(presented, mac(purpose, text))


def derived_hex(write: str, purpose: str, length: int = 32) -> str:
    """An identifier derived from a write id (a post created under a key gets its id from it)."""
    return _mac(f"{purpose}\n{write}").hex()[:length]


def _unpadded_b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _seal_mac(payload: str) -> str:
    return _unpadded_b64(_mac(f"seal\n{payload}")[:16])


def seal(data: dict[str, Any]) -> str:
    payload = _unpadded_b64(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_seal_mac(payload)}"


def unseal(token: str) -> dict[str, Any] | None:
    """The sealed data, or None when `token` is not a value this API sealed."""
    if not isinstance(token, str) or len(token) > 2048 or token.count(".") != 1 or not token.isascii():
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _seal_mac(payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


STATUS_HASH_CHARS = 12  # how much of the request hash a status token carries


def status_token(write: str, body_hash: str) -> str:
    """What a client polls (GET /writes/{token}): the write id, which request under it, and a MAC
    so that only tokens this API issued are looked up."""
    prefix = body_hash[:STATUS_HASH_CHARS]
    return f"{write}.{prefix}.{_status_mac(write, prefix)}"


def _status_mac(write: str, prefix: str) -> str:
    return _mac(f"status\n{write}\n{prefix}").hex()[:16]


def parse_status_token(token: str) -> tuple[str, str] | None:
    """(write id, request hash prefix) of a token this API issued, else None."""
    parts = token.split(".") if isinstance(token, str) and len(token) < 128 and token.isascii() else []
    if len(parts) != 3:
        return None
    write, prefix, mac = parts
    return (write, prefix) if hmac.compare_digest(mac, _status_mac(write, prefix)) else None
