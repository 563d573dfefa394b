"""Paid content in the local run: the pieces AWS runs that the API's own code does not.

- **the user pool**: moto's Cognito in the home region (email sign-in, the app client, two
  readers). The browser reaches it through the site's `/cognito/` (Cognito's JSON protocol:
  `InitiateAuth` with `USER_PASSWORD_AUTH`), and the API fetches its key set from
  `/cognito/<pool>/.well-known/jwks.json`. Both refuse while the home region is killed, as the
  pool's endpoint would be gone.
- **the signing key**: generated here (RSA 2048), a secret in the home region replicated to the
  other, as the deploy's `paid-signing-key`; the site's key group holds its public key.
- **CloudFront's signed path**: the site's `/premium/*` checks the three cookies as CloudFront
  does (the policy's signature with the key of `CloudFront-Key-Pair-Id`, the resource, the
  expiry) and reads the object from the first live region's premium bucket, else the other's.

Everything else (the session, the purchase, the key set kept in the table) is the API's code.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from verify.local.world import LocalWorld

PASSWORD = "Premium-reader-1"  # the local readers' password (the pool's policy: 12+, mixed case, a digit)
READERS = ("reader@example.com", "other@example.com")
KEY_PAIR_ID = "KLOCALPREMIUMKEY"
SECRET_NAME = "paid-signing-key"
COOKIE_SECONDS = 120  # short, so a renewal is seen in a session of the local run
MEDIA_TYPE = "image/svg+xml"


def bucket(region: str) -> str:
    return f"premium-{region}"


@dataclass
class LocalPremium:
    world: LocalWorld
    home: str
    pool_id: str
    client_id: str
    site_origin: str
    public_keys: dict[str, Any] = field(default_factory=dict)  # the key group: key pair id -> public key

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.home}.amazonaws.com/{self.pool_id}"

    def environment(self) -> dict[str, str]:
        """The API's settings for these pieces (set before the API module is imported: its CORS
        reads them)."""
        return {
            "READER_TOKEN_ISSUER": self.issuer,
            "READER_CLIENT_ID": self.client_id,
            "READER_JWKS_URL": f"{self.site_origin}/cognito/{self.pool_id}/.well-known/jwks.json",
            "PREMIUM_SIGNING_KEY_SECRET": SECRET_NAME,
            "PREMIUM_SITE_ORIGIN": self.site_origin,
            "PREMIUM_COOKIE_DOMAIN": "127.0.0.1",
            "PREMIUM_COOKIE_SECONDS": str(COOKIE_SECONDS),
            "PREMIUM_TEST_PURCHASES": "on",
        }

    def home_down(self) -> bool:
        return self.world.regions[self.home].fault == "killed"

    # --- the pool -----------------------------------------------------------------------------

    def initiate_auth(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Cognito's InitiateAuth, as the browser calls it (USER_PASSWORD_AUTH only)."""
        import boto3
        from botocore.exceptions import ClientError

        if request.get("AuthFlow") != "USER_PASSWORD_AUTH" or request.get("ClientId") != self.client_id:
            return 400, {"__type": "InvalidParameterException", "message": "USER_PASSWORD_AUTH with this pool's client only"}
        parameters = request.get("AuthParameters") or {}
        with self.world.lock:
            try:
                answer = boto3.client("cognito-idp", region_name=self.home).initiate_auth(
                    ClientId=self.client_id,
                    AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={
                        "USERNAME": str(parameters.get("USERNAME", "")),
                        "PASSWORD": str(parameters.get("PASSWORD", "")),
                    },
                )
            except ClientError as error:
                code = error.response["Error"]["Code"]
                return 400, {"__type": code, "message": error.response["Error"].get("Message", code)}
        return 200, {"AuthenticationResult": answer["AuthenticationResult"], "ChallengeParameters": {}}

    @staticmethod
    def public_key_set() -> bytes:
        """The key set moto signs its tokens with, as the pool publishes it."""
        import moto.cognitoidp

        return gzip.decompress((Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz").read_bytes())

    # --- CloudFront's signed path ----------------------------------------------------------------

    def refusal(self, url: str, cookie_header: str | None, now: float | None = None) -> str | None:
        """Why CloudFront would refuse `url` with these cookies, or None to serve it."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        from shared.signed_media import cloudfront_b64decode

        cookies = {k: m.value for k, m in SimpleCookie(cookie_header or "").items()}
        policy, signature, key_id = (
            cookies.get(n) for n in ("CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id")
        )
        if not (policy and signature and key_id):
            return "Missing Key-Pair-Id query parameter or cookie value"
        if key_id not in self.public_keys:
            return "Unknown Key"
        try:
            document = cloudfront_b64decode(policy)
            self.public_keys[key_id].verify(cloudfront_b64decode(signature), document, padding.PKCS1v15(), hashes.SHA1())
            [statement] = json.loads(document)["Statement"]
        except (InvalidSignature, ValueError, KeyError):
            return "Invalid signature"
        if not fnmatch.fnmatchcase(url, statement["Resource"]):
            return "Access denied"  # a cookie for another item
        if (now or time.time()) >= statement["Condition"]["DateLessThan"]["AWS:EpochTime"]:
            return "Access denied"  # expired
        return None

    def read(self, key: str) -> tuple[bytes, str] | None:
        """The object from the first live region's premium bucket, else the next (the origin
        group: a killed region refuses, a missing object is a 404 there)."""
        from botocore.exceptions import ClientError

        for region in self.world.regions:
            if self.world.regions[region].fault == "killed":
                continue
            with self.world.lock, self.world.sim.region(region):
                try:
                    found = self.world.sim.regional[region].s3.get_object(Bucket=bucket(region), Key=key)
                except ClientError:
                    continue
                return found["Body"].read(), found.get("ContentType", "application/octet-stream")
        return None

    def publish_media(self, post_id: str, title: str) -> None:
        """A premium post's media in every region's premium bucket (replication's result): an
        image and the index the page reads."""
        image = _poster(title)
        index = json.dumps({"media": [{"name": "poster.svg", "type": MEDIA_TYPE, "title": f"{title}: the premium poster"}]})
        with self.world.lock:
            for region in self.world.regions:
                s3 = self.world.sim.regional[region].s3
                s3.put_object(Bucket=bucket(region), Key=f"premium/{post_id}/poster.svg", Body=image, ContentType=MEDIA_TYPE)
                s3.put_object(
                    Bucket=bucket(region), Key=f"premium/{post_id}/index.json", Body=index, ContentType="application/json"
                )


def set_up(world: LocalWorld, *, site_origin: str) -> LocalPremium:
    """The pool, the readers, the key and its replicated secret, the premium buckets."""
    import boto3
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    regions = list(world.regions)
    home = regions[0]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with world.lock:
        cognito = boto3.client("cognito-idp", region_name=home)
        pool = cognito.create_user_pool(PoolName="paid-local", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])
        pool_id = pool["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="paid-readers",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )
        for reader in READERS:
            attributes = [{"Name": "email", "Value": reader}, {"Name": "email_verified", "Value": "true"}]
            cognito.admin_create_user(UserPoolId=pool_id, Username=reader, UserAttributes=attributes, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(UserPoolId=pool_id, Username=reader, Password=PASSWORD, Permanent=True)
        value = json.dumps({"key_pair_id": KEY_PAIR_ID, "private_key_pem": pem.decode()})
        boto3.client("secretsmanager", region_name=home).create_secret(
            Name=SECRET_NAME, SecretString=value, AddReplicaRegions=[{"Region": r} for r in regions[1:]]
        )
        for region in regions:
            world.sim.regional[region].s3.create_bucket(
                Bucket=bucket(region),
                **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}),
            )
    premium = LocalPremium(
        world, home, pool_id, client["UserPoolClient"]["ClientId"], site_origin, {KEY_PAIR_ID: key.public_key()}
    )
    return premium


def page_config(premium: LocalPremium, session_urls: list[str], site_origin: str) -> dict[str, Any]:
    """What the page reads to sign in and ask for sessions. Locally every region's front may set
    the cookies (all are 127.0.0.1); deployed, only the API's name shares the site's domain."""
    return {
        "authUrl": f"{site_origin}/cognito/",
        "userPoolClientId": premium.client_id,
        "sessionUrls": session_urls,
        "testPurchases": True,
    }


def _poster(title: str) -> bytes:
    from html import escape

    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="270" viewBox="0 0 480 270" role="img">'
        f"<title>{escape(title)}</title>"
        '<rect width="480" height="270" fill="#1d3557"/>'
        f'<text x="24" y="140" fill="#f1faee" font-size="24" font-family="sans-serif">{escape(title)}</text>'
        "</svg>"
    ).encode()
