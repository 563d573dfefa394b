"""PaidContent: sign-in for readers and the keys that sign their premium media (stack/paid_content.py
uses it when paidContent is on).

Creates
- in the home region: `{name}-pool`, a Cognito user pool (email as the user name, verified by
  code, recovery by email only, a 12-character password policy, deletion protection from the
  args, the Lite plan: no per-user add-on charge below the free tier), `{name}-client` (a public
  client: no secret, SRP or password sign-in and refresh, token revocation, user existence hidden, ID
  tokens valid `token_minutes`) and `{name}-premium` (the group an admin grant may add a reader
  to; the entitlement, not the group, admits media);
- global (us-east-1): `{name}-key-<key name>` CloudFront public keys, one per key given (two
  during a rotation: the new one signs, the old one's cookies stay valid until they expire), and
  `{name}-keys`, the key group a premium behaviour trusts;
- `{name}-signing-key`: the signing key as a Secrets Manager secret in the home region,
  replicated to every other region (a session in any region signs without reaching another):
  JSON `{"key_pair_id", "private_key_pem"}`, so a rotation changes the key and its id together.
  Written from a Pulumi secret: state holds it encrypted and no output carries it.

Inputs (`PaidContentArgs`): `home_region`, `regions`, `providers`, `global_provider`,
`public_keys` ((name, PEM) pairs, 1-2, the signing one first), `signing_key_pem` (its private
key, a secret), `deletion_protection`,
`token_minutes` (5-1440), `tags`.
Outputs: `user_pool_id`, `client_id`, `issuer`, `jwks_url`, `key_group_id`, `key_pair_ids`
(the public keys' ids, the signing one first), `signing_key_arns` ({region: secret ARN}).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

PREMIUM_GROUP = "premium"
MIN_PASSWORD_LENGTH = 12
PEM_HEADER = "-----BEGIN PUBLIC KEY-----"


@dataclass(frozen=True, kw_only=True)
class PaidContentArgs:
    home_region: str
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    global_provider: aws.Provider
    public_keys: Sequence[tuple[str, pulumi.Input[str]]]
    signing_key_pem: pulumi.Input[str]
    deletion_protection: bool = True
    token_minutes: int = 60
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if self.home_region not in self.regions:
            raise ValueError(f"PaidContentArgs.home_region: {self.home_region} is not one of {list(self.regions)}")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"PaidContentArgs.providers: no provider for {', '.join(missing)}")
        names = [name for name, _ in self.public_keys]
        if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
            raise ValueError(
                "PaidContentArgs.public_keys: the signing key's, and during a rotation the previous one's, named apart"
            )
        if not all(pem.strip().startswith(PEM_HEADER) for _, pem in self.public_keys if isinstance(pem, str)):
            raise ValueError("PaidContentArgs.public_keys: each a PEM public key (-----BEGIN PUBLIC KEY-----)")
        if not 5 <= self.token_minutes <= 1440:
            raise ValueError(f"PaidContentArgs.token_minutes: {self.token_minutes} is outside 5-1440 (Cognito's range)")


class PaidContent(pulumi.ComponentResource):
    user_pool_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    issuer: pulumi.Output[str]
    jwks_url: pulumi.Output[str]
    key_group_id: pulumi.Output[str]
    key_pair_ids: list[pulumi.Output[str]]
    signing_key_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PaidContentArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:PaidContent", name, None, opts)
        home = pulumi.ResourceOptions(parent=self, provider=args.providers[args.home_region])
        on_edge = pulumi.ResourceOptions(parent=self, provider=args.global_provider)
        tags = dict(args.tags)

        pool = aws.cognito.UserPool(
            f"{name}-pool",
            name=f"{name}-{pulumi.get_project()}-{pulumi.get_stack()}",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
                ]
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_numbers=True,
                require_symbols=False,
                require_uppercase=True,
                temporary_password_validity_days=3,
            ),
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            user_pool_tier="LITE",
            tags=tags,
            opts=home,
        )
        client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name=f"{name}-readers",
            user_pool_id=pool.id,
            generate_secret=False,  # the browser holds it: a public client
            # The page signs in with USER_PASSWORD_AUTH (the password goes over TLS to Cognito's
            # endpoint only; SRP would need a client library the page does not carry).
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            id_token_validity=args.token_minutes,
            access_token_validity=args.token_minutes,
            refresh_token_validity=30,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                id_token="minutes", access_token="minutes", refresh_token="days"
            ),
            opts=home,
        )
        aws.cognito.UserGroup(
            f"{name}-premium",
            name=PREMIUM_GROUP,
            user_pool_id=pool.id,
            description="Readers an admin granted premium content (the entitlement decides what they may open)",
            opts=home,
        )

        keys = [
            aws.cloudfront.PublicKey(
                f"{name}-key-{key_name}",
                encoded_key=pulumi.Output.from_input(pem).apply(lambda p: p.strip() + "\n"),
                comment=f"{key_name}: "
                + ("signs premium media cookies" if index == 0 else "the previous signing key, until its cookies expire"),
                opts=on_edge,
            )
            for index, (key_name, pem) in enumerate(args.public_keys)
        ]
        group = aws.cloudfront.KeyGroup(
            f"{name}-keys",
            name=f"{name}-{pulumi.get_stack()}",
            comment="The keys premium media cookies are signed with",
            items=[key.id for key in keys],
            opts=on_edge,
        )

        others = [r for r in args.regions if r != args.home_region]
        secret = aws.secretsmanager.Secret(
            f"{name}-signing-key",
            description="The private key that signs premium media cookies (CloudFront key group)",
            recovery_window_in_days=7,
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=r) for r in others],
            tags=tags,
            opts=home,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-signing-key-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.json_dumps({"key_pair_id": keys[0].id, "private_key_pem": args.signing_key_pem})
            ),
            opts=home,
        )

        self.user_pool_id = pool.id
        self.client_id = client.id
        self.issuer = pulumi.Output.concat("https://cognito-idp.", args.home_region, ".amazonaws.com/", pool.id)
        self.jwks_url = pulumi.Output.concat(self.issuer, "/.well-known/jwks.json")
        self.key_group_id = group.id
        self.key_pair_ids = [key.id for key in keys]
        # A replica keeps the secret's name and ARN but for the region.
        self.signing_key_arns = {
            region: secret.arn.apply(lambda arn, region=region: arn.replace(f":{args.home_region}:", f":{region}:", 1))
            for region in args.regions
        }
        self.register_outputs({"user_pool_id": self.user_pool_id, "client_id": self.client_id, "key_group_id": self.key_group_id})
