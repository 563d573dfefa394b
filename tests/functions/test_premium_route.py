"""POST /premium/session in a region's API (moto): the purchase in the table decides, the cookies
come signed with the region's replica of the key, and a region whose pool is gone still admits a
signed-in reader from the key set another region kept in the table."""

from __future__ import annotations

import json
import os

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functions.test_premium_session import CLIENT, ISSUER, MEDIA_KEY, OTHER_KEY, POOL_KEY, decoded, jwks, pem, token
from verify.harness import FakeContext, api_event, call_api

KEY_PAIR_ID = "K3PREMIUMKEY"
POST = "c" * 32
READER = "reader@example.com"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
SITE = "https://www.example.com"


@pytest.fixture
def premium(regional, monkeypatch):
    secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="premium-signing-key",
        SecretString=json.dumps({"key_pair_id": KEY_PAIR_ID, "private_key_pem": pem(MEDIA_KEY).decode()}),
    )
    for name, value in {
        "READER_TOKEN_ISSUER": ISSUER,
        "READER_CLIENT_ID": CLIENT,
        "READER_JWKS_URL": JWKS_URL,
        "PREMIUM_SIGNING_KEY_SECRET": secret["ARN"],
        "PREMIUM_SITE_ORIGIN": SITE,
        "PREMIUM_COOKIE_DOMAIN": "example.com",
        "PREMIUM_COOKIE_SECONDS": "300",
    }.items():
        monkeypatch.setenv(name, value)
    pool = PublishedPool(jwks(("k1", POOL_KEY)))
    monkeypatch.setattr(jwt, "PyJWKClient", pool.client)
    return pool


class PublishedPool:
    """The pool's /.well-known/jwks.json: `up` or gone with its region; counts the fetches."""

    def __init__(self, keys: dict):
        self.keys, self.up, self.fetches = keys, True, 0

    def client(self, url, **options):
        pool = self

        class Client:
            def fetch_data(self):
                pool.fetches += 1
                if not pool.up:
                    raise jwt.PyJWKClientConnectionError(f"Fail to fetch data from the url, err: {url} timed out")
                return pool.keys

        return Client()


def ask(item: str = POST, bearer: str | None = None) -> tuple[int, dict, list[str]]:
    from api.app import handler

    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = handler(api_event("POST", "/premium/session", body={"item": item}, headers=headers), FakeContext())
    cookies = (response.get("multiValueHeaders") or {}).get("Set-Cookie", [])
    return response["statusCode"], json.loads(response["body"]), cookies


def buy(item: str = POST, key: str = "buy-premium-0001") -> int:
    return call_api(
        "POST",
        "/purchases",
        body={"reader": READER, "item": item},
        headers={"X-Api-Key": "test", "Idempotency-Key": key},
    )[0]


def reader_token(**claims) -> str:
    return token(email=READER, **claims)


def test_a_reader_who_bought_the_post_gets_cookies_that_verify_and_one_who_did_not_gets_403(premium):
    assert ask(bearer=reader_token())[:2] == (
        403,
        {"error": "forbidden", "message": f"item {POST} is not yours: unlock it first"},
    )
    assert buy() == 201
    status, body, cookies = ask(bearer=reader_token())
    assert status == 200 and body["item"] == POST and len(cookies) == 3
    values = dict(c.split(";", 1)[0].split("=", 1) for c in cookies)
    policy = decoded(values["CloudFront-Policy"])
    MEDIA_KEY.public_key().verify(decoded(values["CloudFront-Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())
    assert values["CloudFront-Key-Pair-Id"] == KEY_PAIR_ID
    assert json.loads(policy)["Statement"][0]["Resource"] == f"{SITE}/premium/{POST}/*"
    assert all(f"Path=/premium/{POST}/; Max-Age=300; Secure; HttpOnly" in c for c in cookies)
    assert ask(item="d" * 32, bearer=reader_token())[0] == 403  # another post: not bought


def test_the_purchase_decides_not_the_group_and_an_unverified_address_owns_nothing(premium):
    assert buy() == 201
    assert ask(bearer=reader_token(**{"cognito:groups": None}))[0] == 200
    assert ask(bearer=reader_token(email_verified=False))[0] == 403


@pytest.mark.parametrize(
    "bearer",
    [None, "garbage", "expired", "audience", "forged"],
)
def test_a_token_that_does_not_admit_its_bearer_is_401_with_no_cookie(premium, bearer):
    made = {
        None: None,
        "garbage": "not.a.token",
        "expired": reader_token(lifetime=-3600),
        "audience": reader_token(aud="another-client"),
        "forged": reader_token(key=OTHER_KEY),
    }[bearer]
    assert buy() == 201
    status, body, cookies = ask(bearer=made)
    assert status == 401 and body["error"] == "unauthorized" and cookies == []


def test_with_the_pool_s_region_gone_a_cold_region_admits_a_reader_from_the_keys_kept_in_the_table(premium):
    from api import premium as module
    from shared import reader_tokens

    assert buy() == 201
    assert ask(bearer=reader_token())[0] == 200 and premium.fetches == 1  # fetched once, kept in the table
    kept = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["TABLE_NAME"])
    assert json.loads(kept.get_item(Key=module.kept_keys_key(ISSUER))["Item"]["jwks"]) == premium.keys
    premium.up = False  # the pool's region is gone; a new execution environment starts
    module.reset_cache()
    reader_tokens.forget_published_keys()
    assert ask(bearer=reader_token())[0] == 200 and premium.fetches == 1
    assert ask(bearer=reader_token(key=OTHER_KEY, kid="k9"))[0] == 401  # an unknown key: refused, not a 5xx


def test_a_region_without_its_secret_replica_answers_503_not_500(premium, monkeypatch):
    monkeypatch.setenv("PREMIUM_SIGNING_KEY_SECRET", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    assert buy() == 201
    status, body, cookies = ask(bearer=reader_token())
    assert status == 503 and body["error"] == "unavailable" and cookies == []


def test_with_paid_content_off_the_route_is_404(regional):
    assert ask(bearer="anything")[0] == 404


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bearer=st.one_of(st.none(), st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", max_size=200)))
def test_any_bearer_is_answered_401_never_5xx(premium, bearer):
    status, _, cookies = ask(bearer=bearer)
    assert status == 401 and cookies == []


def unlock(bearer: str | None, item: str = POST, key: str = "unlock-premium-01") -> tuple[int, dict]:
    headers = {"Idempotency-Key": key, **({"Authorization": f"Bearer {bearer}"} if bearer else {})}
    status, body, _ = call_api("POST", "/premium/purchases", body={"item": item}, headers=headers)
    return status, body


def test_a_test_purchase_unlocks_the_post_for_the_token_s_own_address_once(premium, monkeypatch):
    monkeypatch.setenv("PREMIUM_TEST_PURCHASES", "on")
    status, body = unlock(reader_token())
    assert status == 201 and (body["reader"], body["item"]) == (READER, POST)
    assert unlock(reader_token()) == (201, body)  # the same key: the same answer, one purchase
    assert ask(bearer=reader_token())[0] == 200
    assert ask(bearer=token(email="other@example.com"))[0] == 403  # another reader owns nothing
    assert unlock(None, key="unlock-premium-02")[0] == 401
    assert unlock(reader_token(email_verified=False), key="unlock-premium-03")[0] == 401


def test_without_test_purchases_a_reader_cannot_unlock_for_free(premium):
    status, body = unlock(reader_token())
    assert status == 404 and "premiumTestPurchases" in body["message"]
    assert ask(bearer=reader_token())[0] == 403
