"""A premium session: the answer to a reader asking for an item's media (paid content, #33).

The reader's token is checked in the function (shared/reader_tokens.py), the entitlement read
from the caller's store, and the answer carries CloudFront signed cookies for that item's path
only, living `ttl_seconds` (shared/signed_media.py). Every outcome is an answer, never an
exception: 422 for an item id that cannot be one, 401 for any token that does not admit its
bearer, 403 for a reader without the item, 200 with the cookies otherwise. The entitlement is
what decides, not a group in the token: a purchase is written to the store, and a token issued
before it would not carry it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.reader_tokens import Reader, TokenRefused, TokenSettings, verify
from shared.signed_media import SigningKey, set_cookie_headers, signed_cookies

ITEM_ID = re.compile(r"^[0-9a-f]{32}$")  # a post id: premium media belong to a post


@dataclass(frozen=True)
class SessionSettings:
    site_origin: str  # https://www.example.com: the distribution that checks the cookies
    cookie_domain: str  # example.com: the parent of the site's and the API's hosts
    path_prefix: str  # /premium/
    ttl_seconds: int

    def resource(self, item: str) -> str:
        return f"{self.site_origin}{self.path_prefix}{item}/*"


@dataclass(frozen=True)
class SessionAnswer:
    status: int
    body: dict
    set_cookies: list[str] = field(default_factory=list)


def issue(
    token: str | None,
    item: object,
    *,
    tokens: TokenSettings,
    entitled: Callable[[Reader, str], bool],  # the purchases ledger keys readers by email, a table may by sub
    key: SigningKey,
    settings: SessionSettings,
    now: float,
) -> SessionAnswer:
    if not isinstance(item, str) or not ITEM_ID.fullmatch(item):
        return SessionAnswer(422, {"error": "invalid_request", "message": "item: a post id (32 hexadecimal digits)"})
    try:
        reader = verify(token, tokens)
    except TokenRefused as refused:
        return SessionAnswer(401, {"error": "unauthorized", "message": str(refused)})
    if not entitled(reader, item):
        return SessionAnswer(403, {"error": "forbidden", "message": f"item {item} is not yours: unlock it first"})
    expires_at = int(now) + settings.ttl_seconds
    cookies = signed_cookies(settings.resource(item), expires_at, key)
    headers = set_cookie_headers(
        cookies, domain=settings.cookie_domain, path=f"{settings.path_prefix}{item}/", max_age=settings.ttl_seconds
    )
    return SessionAnswer(200, {"item": item, "expires_at": expires_at}, headers)
