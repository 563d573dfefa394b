"""Paid content's config (paidContent and its keys), validated as one choice.

Off by default. On, it needs the stack's domain: the API sets the cookies for the parent of the
site's and the API's names, and a browser refuses cookies for a domain the answering host is
not in (no cookie for *.cloudfront.net from an execute-api host).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stack.config_errors import ConfigError, one_of

MODES: tuple[str, ...] = ("off", "signed-cookies")
COOKIE_SECONDS = range(60, 3601)
TOKEN_MINUTES = range(5, 1441)  # Cognito's range for an ID token's validity
_KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True, kw_only=True)
class PaidContentConfig:
    mode: str  # off | signed-cookies
    cookie_seconds: int
    signing_keys: tuple[str, ...]  # the signing one first; two while a rotation overlaps
    token_minutes: int
    test_purchases: bool = False  # POST /premium/purchases: a reader unlocks a post without payment

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


def parse_paid_content_config(v: Mapping[str, Any], key: Callable[[str], str], *, domain: str | None) -> PaidContentConfig:
    mode = one_of(key("paidContent"), v["paidContent"], MODES)
    cookie_seconds = v["premiumCookieSeconds"]
    if cookie_seconds not in COOKIE_SECONDS:
        raise ConfigError(key("premiumCookieSeconds"), cookie_seconds, "an integer from 60 to 3600")
    names = v["premiumSigningKeys"]
    if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        raise ConfigError(
            key("premiumSigningKeys"),
            names,
            "one key name, or two different ones while a rotation overlaps (the signing one first)",
        )
    bad = [n for n in names if not _KEY_NAME.match(n)]
    if bad:
        raise ConfigError(key("premiumSigningKeys"), bad[0], "a key name: lowercase letters, digits and hyphens, at most 40")
    minutes = v["readerTokenMinutes"]
    if minutes not in TOKEN_MINUTES:
        raise ConfigError(key("readerTokenMinutes"), minutes, "an integer from 5 to 1440 (Cognito's ID token validity)")
    if mode != "off" and domain is None:
        raise ConfigError(
            key("paidContent"),
            mode,
            f"a {key('domain')}: the API sets the media cookies for the site's parent domain, and a browser keeps no "
            "cookie for *.cloudfront.net set by another host",
        )
    if v["premiumTestPurchases"] and mode == "off":
        raise ConfigError(
            key("premiumTestPurchases"), True, f"false unless {key('paidContent')} is on: there is nothing to unlock"
        )
    return PaidContentConfig(
        mode=mode,
        cookie_seconds=cookie_seconds,
        signing_keys=tuple(names),
        token_minutes=minutes,
        test_purchases=v["premiumTestPurchases"],
    )
