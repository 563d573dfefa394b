"""Paid content's session (#33, the function side, not deployed yet): a reader's token checked in
the function, the entitlement deciding, and CloudFront signed cookies that verify against the
public key, admit one item's path and expire as configured. Tokens and keys are made here with
`cryptography` and PyJWT, as Cognito would make them."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared.premium_session import SessionSettings, issue
from shared.reader_tokens import TokenRefused, TokenSettings, bearer_token, verify
from shared.signed_media import KEY_PAIR_COOKIE, POLICY_COOKIE, SIGNATURE_COOKIE, SigningKey

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Blog"
CLIENT = "4h2k1n0readers"
SITE = "https://www.example.com"
FILM, OTHER_FILM = "7" * 32, "8" * 32  # post ids: premium media belong to a post


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY, OTHER_KEY, MEDIA_KEY = rsa_key(), rsa_key(), rsa_key()


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict:
    out = []
    for kid, key in keys:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        out.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": out}


TOKENS = TokenSettings(issuer=ISSUER, client_id=CLIENT, keys=jwks(("k1", POOL_KEY)))
SESSION = SessionSettings(site_origin=SITE, cookie_domain="example.com", path_prefix="/premium/", ttl_seconds=300)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


SIGNING = SigningKey(key_pair_id="K2PUBLICKEYID", private_key_pem=pem(MEDIA_KEY))


def token(*, key=POOL_KEY, kid="k1", lifetime=3600, **claims) -> str:
    now = int(time.time())
    body = {
        "sub": "reader-1",
        "aud": CLIENT,
        "iss": ISSUER,
        "iat": now,
        "exp": now + lifetime,
        "token_use": "id",
        "email": "Reader@Example.com",
        "email_verified": True,
        "cognito:groups": ["premium"],
        **claims,
    }
    return jwt.encode({k: v for k, v in body.items() if v is not None}, pem(key), algorithm="RS256", headers={"kid": kid})


# --- tokens ------------------------------------------------------------------------------------


def test_a_live_id_token_of_the_pool_names_its_reader():
    reader = verify(token(), TOKENS)
    assert (reader.sub, reader.email, reader.groups) == ("reader-1", "reader@example.com", ("premium",))
    assert bearer_token({"authorization": f"Bearer {token()}"}) and bearer_token({"Authorization": "Basic abc"}) is None


@pytest.mark.parametrize(
    ("made", "reason"),
    [
        (lambda: None, "no token"),
        (lambda: "not-a-jwt", "not a JWT"),
        (lambda: token(lifetime=-120), "expired"),
        (lambda: token(aud="another-client"), "another app client"),
        (lambda: token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"), "another user pool"),
        (lambda: token(key=OTHER_KEY), "signature does not verify"),  # forged: the pool's kid, another key
        (lambda: token(kid="k9"), "key this pool does not have"),
        (lambda: token(token_use="access"), "not an ID token"),
        (lambda: token(sub=None), "not valid"),
        (lambda: jwt.encode({"sub": "x", "aud": CLIENT, "iss": ISSUER}, key=None, algorithm="none"), "names no signing key"),
    ],
    ids=["missing", "garbage", "expired", "audience", "issuer", "forged", "unknown-key", "access-token", "no-sub", "alg-none"],
)
def test_a_token_that_does_not_admit_its_bearer_is_refused_with_the_reason(made, reason):
    with pytest.raises(TokenRefused, match=reason):
        verify(made(), TOKENS)


def test_a_key_missing_from_the_deploy_s_copy_is_fetched_once_from_the_pool(monkeypatch):
    from shared import reader_tokens

    fetched, kept = [], []

    class Published:
        def __init__(self, url, **options):
            self.url = url

        def fetch_data(self):
            fetched.append(self.url)
            return jwks(("k2", OTHER_KEY))

    monkeypatch.setattr(reader_tokens.jwt, "PyJWKClient", Published)
    monkeypatch.setattr(reader_tokens, "_published", {})
    url = f"{ISSUER}/.well-known/jwks.json"
    rotated = TokenSettings(issuer=ISSUER, client_id=CLIENT, keys=TOKENS.keys, keys_url=url, remember=kept.append)
    assert verify(token(key=OTHER_KEY, kid="k2"), rotated).sub == "reader-1"
    assert verify(token(), rotated).sub == "reader-1"  # a key of the copy: no fetch
    with pytest.raises(TokenRefused, match="does not have"):
        verify(token(key=OTHER_KEY, kid="k3"), rotated)  # fetched within the hour: not again
    assert fetched == [url] and kept == [jwks(("k2", OTHER_KEY))]


def test_an_unreachable_pool_refuses_an_unknown_key_and_is_asked_again_a_minute_later(monkeypatch):
    """The pool's region gone: a token with a key nobody kept is a 401, not a 5xx, and a flood
    of such tokens does not call out per request."""
    from shared import reader_tokens

    calls = []

    class Down:
        def __init__(self, url, **options):
            pass

        def fetch_data(self):
            calls.append(1)
            raise jwt.PyJWKClientConnectionError("Fail to fetch data from the url, err: timed out")

    clock = [1000.0]
    monkeypatch.setattr(reader_tokens.jwt, "PyJWKClient", Down)
    monkeypatch.setattr(reader_tokens, "_published", {})
    monkeypatch.setattr(reader_tokens.time, "monotonic", lambda: clock[0])
    gone = TokenSettings(issuer=ISSUER, client_id=CLIENT, keys=TOKENS.keys, keys_url=f"{ISSUER}/.well-known/jwks.json")
    for _ in range(5):
        with pytest.raises(TokenRefused, match="does not have"):
            verify(token(key=OTHER_KEY, kid="k9"), gone)
    assert verify(token(), gone).sub == "reader-1"  # a kept key still admits its readers
    clock[0] += reader_tokens.RETRY_FETCH_AFTER_SECONDS + 1
    with pytest.raises(TokenRefused):
        verify(token(key=OTHER_KEY, kid="k9"), gone)
    assert len(calls) == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.none(), st.text(max_size=300), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=300)))
def test_any_text_as_a_token_is_refused_and_nothing_else(text):
    with pytest.raises(TokenRefused):
        verify(text, TOKENS)


# --- signed cookies ----------------------------------------------------------------------------


def decoded(value: str) -> bytes:
    from shared.signed_media import cloudfront_b64decode

    return cloudfront_b64decode(value)


def cookies_of(headers: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for header in headers:
        first, *attributes = [part.strip() for part in header.split(";")]
        name, value = first.split("=", 1)
        out[name] = {"value": value, **{a.split("=", 1)[0]: a.partition("=")[2] for a in attributes}}
    return out


def entitled_to(*items: str):
    return lambda reader, item: reader.sub == "reader-1" and item in items


def test_the_session_s_cookies_verify_against_the_public_key_admit_one_item_and_expire_as_configured():
    now = time.time()
    answer = issue(token(), FILM, tokens=TOKENS, entitled=entitled_to(FILM), key=SIGNING, settings=SESSION, now=now)
    assert answer.status == 200 and answer.body == {"item": FILM, "expires_at": int(now) + SESSION.ttl_seconds}
    cookies = cookies_of(answer.set_cookies)
    assert set(cookies) == {POLICY_COOKIE, SIGNATURE_COOKIE, KEY_PAIR_COOKIE}
    policy = decoded(cookies[POLICY_COOKIE]["value"])
    # CloudFront's check: the signature over the policy, with the public key its key group holds.
    MEDIA_KEY.public_key().verify(decoded(cookies[SIGNATURE_COOKIE]["value"]), policy, padding.PKCS1v15(), hashes.SHA1())
    [statement] = json.loads(policy)["Statement"]
    assert statement["Resource"] == f"{SITE}/premium/{FILM}/*"
    assert statement["Condition"] == {"DateLessThan": {"AWS:EpochTime": int(now) + SESSION.ttl_seconds}}
    assert cookies[KEY_PAIR_COOKIE]["value"] == SIGNING.key_pair_id
    for cookie in cookies.values():
        assert not set(cookie["value"]) & set("+=/")  # CloudFront's base64 alphabet
        assert (cookie["Domain"], cookie["Path"], cookie["Max-Age"], cookie["SameSite"]) == (
            "example.com",
            f"/premium/{FILM}/",
            str(SESSION.ttl_seconds),
            "Lax",
        )
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_forged_policy_does_not_verify():
    answer = issue(token(), FILM, tokens=TOKENS, entitled=entitled_to(FILM), key=SIGNING, settings=SESSION, now=0)
    cookies = cookies_of(answer.set_cookies)
    widened = json.dumps(
        {"Statement": [{"Resource": f"{SITE}/premium/*", "Condition": {"DateLessThan": {"AWS:EpochTime": 2**31}}}]}
    )
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        MEDIA_KEY.public_key().verify(
            decoded(cookies[SIGNATURE_COOKIE]["value"]), widened.encode(), padding.PKCS1v15(), hashes.SHA1()
        )


@pytest.mark.parametrize(
    ("made", "item", "status"),
    [
        (lambda: None, FILM, 401),
        (lambda: token(lifetime=-120), FILM, 401),
        (lambda: token(aud="another-client"), FILM, 401),
        (lambda: token(key=OTHER_KEY), FILM, 401),
        (lambda: token(), OTHER_FILM, 403),  # signed in, not entitled to this one
        (lambda: token(sub="reader-2"), FILM, 403),  # the premium group in the token decides nothing
        (lambda: token(), "../" + FILM, 422),
        (lambda: token(), None, 422),
    ],
    ids=["missing", "expired", "audience", "forged", "other-item", "other-reader", "bad-item", "no-item"],
)
def test_the_session_refuses_with_401_for_the_token_403_for_the_item_and_sets_no_cookie(made, item, status):
    answer = issue(made(), item, tokens=TOKENS, entitled=entitled_to(FILM), key=SIGNING, settings=SESSION, now=time.time())
    assert answer.status == status and answer.set_cookies == [] and answer.body["message"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(st.none(), st.text(max_size=200), st.builds(lambda: token(lifetime=-120))),
    item=st.one_of(st.none(), st.integers(), st.text(max_size=80)),
)
def test_whatever_a_client_sends_the_session_answers_401_403_or_422_never_raises(raw, item):
    answer = issue(raw, item, tokens=TOKENS, entitled=entitled_to(FILM), key=SIGNING, settings=SESSION, now=time.time())
    assert answer.status in (401, 403, 422) and answer.set_cookies == []
