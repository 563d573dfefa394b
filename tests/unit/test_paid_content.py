"""PaidContent (components/paid_content.py), under the recording mocks: the pool and its public
client in the home region, a key group holding every public key given, and the signing key as a
secret in the home region replicated to every other, never in clear."""

from __future__ import annotations

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components import PaidContent, PaidContentArgs
from ops.offline_run import SECRET_MASK
from tests.helpers import providers_for, run_component


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


ACTIVE, PREVIOUS = public_pem(), public_pem()


def build(regions=("us-east-1", "us-west-2"), keys=(("k2", ACTIVE),), **more):
    def program():
        providers = providers_for(*regions, *([] if "us-east-1" in regions else ["us-east-1"]))
        paid = PaidContent(
            "paid",
            PaidContentArgs(
                home_region=regions[0],
                regions=regions,
                providers=providers,
                global_provider=providers["us-east-1"],
                public_keys=keys,
                signing_key_pem=pulumi.Output.secret("-----BEGIN PRIVATE KEY-----\nnot in clear\n"),
                **more,
            ),
        )
        return {
            "issuer": paid.issuer,
            "jwks": paid.jwks_url,
            "keyPairIds": paid.key_pair_ids,
            "signingKeys": paid.signing_key_arns,
        }

    return run_component(program)


def test_the_pool_and_its_public_client_live_in_the_home_region_and_sign_in_by_email():
    run = build(regions=("eu-west-1", "eu-central-1"), token_minutes=30, deletion_protection=False)
    [pool] = run.of_type("aws:cognito/userPool:UserPool")
    [client] = run.of_type("aws:cognito/userPoolClient:UserPoolClient")
    [group] = run.of_type("aws:cognito/userGroup:UserGroup")
    assert pool.region == client.region == group.region == "eu-west-1"
    assert pool.inputs["usernameAttributes"] == ["email"] and pool.inputs["deletionProtection"] == "INACTIVE"
    assert pool.inputs["passwordPolicy"]["minimumLength"] >= 12
    assert client.inputs["generateSecret"] is False
    assert set(client.inputs["explicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client.inputs["idTokenValidity"] == 30 and client.inputs["tokenValidityUnits"]["idToken"] == "minutes"
    assert group.inputs["name"] == "premium"
    assert run.outputs["issuer"].startswith("https://cognito-idp.eu-west-1.amazonaws.com/")
    assert run.outputs["jwks"] == run.outputs["issuer"] + "/.well-known/jwks.json"


def test_the_key_group_trusts_every_public_key_given_the_signing_one_first():
    run = build(keys=(("k2", ACTIVE), ("k1", PREVIOUS)))
    keys = {k.inputs["encodedKey"]: k for k in run.of_type("aws:cloudfront/publicKey:PublicKey")}
    assert set(keys) == {ACTIVE.strip() + "\n", PREVIOUS.strip() + "\n"}
    assert {k.region for k in keys.values()} == {"us-east-1"}
    [group] = run.of_type("aws:cloudfront/keyGroup:KeyGroup")
    assert len(group.inputs["items"]) == 2 and len(set(group.inputs["items"])) == 2
    assert run.outputs["keyPairIds"] == group.inputs["items"]  # the signing key's id first
    # Named by key, not by place: a rotation adds a key and leaves the old one's resource alone.
    assert keys[ACTIVE.strip() + "\n"].name == "paid-key-k2" and "signs" in keys[ACTIVE.strip() + "\n"].inputs["comment"]
    assert keys[PREVIOUS.strip() + "\n"].name == "paid-key-k1"


def test_the_signing_key_is_a_secret_replicated_to_every_other_region_and_never_in_clear():
    run = build(regions=("us-east-1", "us-west-2", "eu-west-1"))
    [secret] = run.of_type("aws:secretsmanager/secret:Secret")
    assert secret.region == "us-east-1"
    assert [r["region"] for r in secret.inputs["replicas"]] == ["us-west-2", "eu-west-1"]
    [value] = run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert value.inputs["secretString"] == SECRET_MASK
    arns = run.outputs["signingKeys"]
    assert set(arns) == {"us-east-1", "us-west-2", "eu-west-1"}
    assert all(f":{region}:" in arn and arn.endswith(secret.state["arn"].split(":")[-1]) for region, arn in arns.items())
    assert "not in clear" not in repr(run.outputs)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keys": ()}, "public_keys"),
        ({"keys": (("k1", ACTIVE), ("k2", PREVIOUS), ("k3", ACTIVE))}, "public_keys"),
        ({"keys": (("k1", ACTIVE), ("k1", PREVIOUS))}, "named apart"),
        ({"keys": (("k1", "ssh-rsa AAAA"),)}, "PEM public key"),
        ({"token_minutes": 2}, "outside 5-1440"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(change, message):
    with pytest.raises(Exception, match=message):
        build(**change)
