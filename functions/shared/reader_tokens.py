"""A reader's sign-in token (a Cognito ID token), checked in the function with PyJWT.

Checking a token needs no call to Cognito: the pool's key set is a copy (`READER_JWKS`, and
what the caller kept: functions/api/premium.py keeps it in the global table), so a region keeps
admitting readers who signed in while the pool's region is gone. A token signed with a key the
copy lacks is checked against the pool's published set (`READER_JWKS_URL`), fetched by PyJWT's
client at most once an hour per execution environment (a minute after a failed fetch) and handed
to `remember`, which keeps it where every region reads it.

Anything that is not a live token of this pool for this app client, signed by one of its keys,
is refused with `TokenRefused` and a one-line reason: a missing, malformed, expired, not yet
valid, forged or foreign token, another client's, or an access token where an ID token belongs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

ALGORITHMS = ["RS256"]  # what Cognito signs with
LEEWAY_SECONDS = 30  # clocks of the pool and of the function disagree a little
REMOTE_KEYS_LIFESPAN_SECONDS = 3600
RETRY_FETCH_AFTER_SECONDS = 60  # the pool's region may be down: a forged kid must not fetch per request


class TokenRefused(Exception):
    """The token does not admit its bearer; the message says why, in one line."""


@dataclass(frozen=True)
class Reader:
    sub: str  # the user pool's stable id of the reader
    email: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class TokenSettings:
    issuer: str  # https://cognito-idp.<region>.amazonaws.com/<pool id>
    client_id: str  # the app client's id: an ID token's audience
    keys: dict[str, Any]  # the pool's JWKS as the deploy read it
    keys_url: str | None = None
    # Called with a set fetched from keys_url, to keep it where other regions read it.
    remember: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)

    @classmethod
    def from_environment(cls) -> TokenSettings:
        return cls(
            issuer=os.environ["READER_TOKEN_ISSUER"],
            client_id=os.environ["READER_CLIENT_ID"],
            keys=json.loads(os.environ.get("READER_JWKS") or '{"keys": []}'),
            keys_url=os.environ.get("READER_JWKS_URL") or None,
        )


_published: dict[str, tuple[float, dict[str, Any]]] = {}  # keys_url -> (fetched at, set)


def forget_published_keys() -> None:
    _published.clear()


def bearer_token(headers: dict[str, str] | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def verify(token: str | None, settings: TokenSettings) -> Reader:
    """The reader the token names, or TokenRefused."""
    if not token:
        raise TokenRefused("no token: sign in first")
    try:
        claims = jwt.decode(
            token,
            _signing_key(token, settings),
            algorithms=ALGORITHMS,
            audience=settings.client_id,
            issuer=settings.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRefused("the token has expired: sign in again") from error
    except jwt.InvalidAudienceError as error:
        raise TokenRefused("the token is for another app client") from error
    except jwt.InvalidIssuerError as error:
        raise TokenRefused("the token is from another user pool") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRefused("the token's signature does not verify") from error
    except jwt.PyJWTError as error:
        raise TokenRefused(
            f"the token is not valid: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from error
    if claims.get("token_use") != "id":
        raise TokenRefused("not an ID token")
    groups = claims.get("cognito:groups")
    return Reader(
        sub=str(claims["sub"]),
        # Purchases are kept by address: one the pool marks unverified names nobody. (Cognito puts
        # email_verified in every ID token that has an email; moto leaves it out.)
        email=claims["email"].lower()
        if isinstance(claims.get("email"), str) and claims.get("email_verified", True) in (True, "true")
        else None,
        groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
    )


def _signing_key(token: str, settings: TokenSettings) -> Any:
    """The pool's key the token's header names: from the deploy's copy, else from the pool's
    published set (cached per execution environment)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as error:
        raise TokenRefused("the token is not a JWT") from error
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("the token names no signing key")
    known = _find(settings.keys, kid)
    if known is None and settings.keys_url is not None:
        known = _find(_published_keys(settings), kid)
    if known is None:
        raise TokenRefused("the token is signed with a key this pool does not have")
    try:
        return jwt.PyJWK.from_dict(known, algorithm="RS256").key
    except jwt.PyJWTError as error:
        raise TokenRefused(f"the pool's key {kid} is not usable") from error


def _find(keys: dict[str, Any], kid: str) -> dict[str, Any] | None:
    found = [jwk for jwk in keys.get("keys", []) if isinstance(jwk, dict) and jwk.get("kid") == kid]
    return found[0] if found else None


def _published_keys(settings: TokenSettings) -> dict[str, Any]:
    """The pool's published set, fetched at most once per lifespan (per minute after a failure)."""
    url = settings.keys_url
    fetched_at, keys = _published.get(url, (-float("inf"), {"keys": []}))
    if time.monotonic() - fetched_at < REMOTE_KEYS_LIFESPAN_SECONDS:
        return keys
    try:
        keys = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=2).fetch_data()
    except (jwt.PyJWKClientError, OSError, ValueError):  # unreachable, refused, or not a key set
        _published[url] = (time.monotonic() - REMOTE_KEYS_LIFESPAN_SECONDS + RETRY_FETCH_AFTER_SECONDS, keys)
        return keys
    _published[url] = (time.monotonic(), keys)
    if settings.remember is not None:
        settings.remember(keys)
    return keys
