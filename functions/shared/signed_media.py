"""CloudFront signed cookies for a reader's premium media: a custom policy admitting one item's
path (a wildcard: a canned policy cannot carry one) until an expiry minutes away, signed with
the stack's private key (RSA, SHA-1: CloudFront's signature for a key group's RSA key), named
by its public key's id in the distribution's trusted key group.

botocore builds the policy (`CloudFrontSigner.build_policy`, the shape CloudFront documents);
`cryptography` signs it. The cookies go to the browser as `Set-Cookie` headers for the site's
parent domain, Secure, HttpOnly, SameSite=Lax and scoped to the premium path, so they are sent
only to the distribution and only for premium media.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from botocore.signers import CloudFrontSigner

POLICY_COOKIE = "CloudFront-Policy"
SIGNATURE_COOKIE = "CloudFront-Signature"
KEY_PAIR_COOKIE = "CloudFront-Key-Pair-Id"
# Seconds of slack for the clock of the function and CloudFront's: a cookie is never issued
# already expired, and never lives longer than asked plus this.
CLOCK_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class SigningKey:
    key_pair_id: str  # the CloudFront public key's id
    private_key_pem: bytes


def cloudfront_b64(data: bytes) -> str:
    """Base64 as CloudFront wants it in URLs and cookies: '+' '=' '/' become '-' '_' '~'."""
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def cloudfront_b64decode(text: str) -> bytes:
    """The inverse of cloudfront_b64 (what CloudFront does with a cookie it checks)."""
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def policy_for(resource: str, expires_at: int) -> str:
    """The custom policy admitting `resource` (may end in *) until `expires_at` (epoch s)."""
    signer = CloudFrontSigner("unused", lambda message: b"")
    when = datetime.datetime.fromtimestamp(expires_at, tz=datetime.UTC)
    return signer.build_policy(resource, when)


def _rsa_sha1(private_key_pem: bytes, message: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA1())


def signed_cookies(resource: str, expires_at: int, key: SigningKey) -> dict[str, str]:
    """The three cookies CloudFront reads: the policy, its signature and the key's id."""
    policy = policy_for(resource, expires_at).encode()
    return {
        POLICY_COOKIE: cloudfront_b64(policy),
        SIGNATURE_COOKIE: cloudfront_b64(_rsa_sha1(key.private_key_pem, policy)),
        KEY_PAIR_COOKIE: key.key_pair_id,
    }


def set_cookie_headers(cookies: dict[str, str], *, domain: str, path: str, max_age: int) -> list[str]:
    """`Set-Cookie` values for the browser: sent to every host of `domain` (the site's and the
    API's parent), over HTTPS only, hidden from scripts, on cross-site navigations but not
    cross-site requests, for `path` only, and dropped by the browser after `max_age` seconds."""
    attributes = f"Domain={domain}; Path={path}; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax"
    return [f"{name}={value}; {attributes}" for name, value in cookies.items()]
