"""What every CloudFront distribution of this program shares: its price classes, its failover
target, its security headers, its own name (a certificate from us-east-1, the alias records)
and the viewer certificate that follows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .certificate import ValidatedCertificate, dns_validated_certificate

CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # the hosted zone of every *.cloudfront.net alias
HSTS_SECONDS = 63_072_000  # two years
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")


def failover_target(
    group_id: str, origin_ids: list[str], status_codes: list[int]
) -> tuple[str, list[aws.cloudfront.DistributionOriginGroupArgs] | None]:
    """(target origin id, origin groups): the only origin, or a group over the first two (an
    origin group holds two origins) failing over on `status_codes`."""
    if len(origin_ids) == 1:
        return origin_ids[0], None
    group = aws.cloudfront.DistributionOriginGroupArgs(
        origin_id=group_id,
        failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(status_codes=status_codes),
        members=[aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=o) for o in origin_ids[:2]],
    )
    return group_id, [group]


def signed_bucket_access(base: str, description: str, opts: pulumi.ResourceOptions) -> aws.cloudfront.OriginAccessControl:
    """`{base}-oac`: an origin access control signing every request to an S3 origin (SigV4), so
    a bucket admits the distribution it names and nobody else."""
    return aws.cloudfront.OriginAccessControl(
        f"{base}-oac",
        name=f"{base}-{pulumi.get_stack()}",
        description=description,
        origin_access_control_origin_type="s3",
        signing_behavior="always",
        signing_protocol="sigv4",
        opts=opts,
    )


def security_headers_policy(
    name: str,
    comment: str,
    csp: str,
    opts: pulumi.ResourceOptions,
    cors: aws.cloudfront.ResponseHeadersPolicyCorsConfigArgs | None = None,
) -> aws.cloudfront.ResponseHeadersPolicy:
    """HSTS (two years, subdomains, preload), nosniff, no framing, a strict referrer policy and
    `csp`; and `cors` when the origin behind it cannot answer CORS itself (a bucket)."""
    h = aws.cloudfront
    return h.ResponseHeadersPolicy(
        f"{name}-headers",
        name=f"{name}-{pulumi.get_stack()}-security",
        comment=comment,
        cors_config=cors,
        security_headers_config=h.ResponseHeadersPolicySecurityHeadersConfigArgs(
            strict_transport_security=h.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=HSTS_SECONDS, include_subdomains=True, preload=True, override=True
            ),
            content_type_options=h.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(override=True),
            frame_options=h.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(frame_option="DENY", override=True),
            referrer_policy=h.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy="strict-origin-when-cross-origin", override=True
            ),
            content_security_policy=h.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=csp, override=True
            ),
        ),
        opts=opts,
    )


@dataclass(frozen=True, kw_only=True)
class EdgeName:
    """A distribution's own host name in a Route 53 zone the stack owns."""

    host: str
    zone_name: str


@dataclass(frozen=True)
class NamedEdge:
    zone_id: pulumi.Output[str]
    certificate: ValidatedCertificate


def certificate_for(
    name: str, domain: EdgeName, parent: pulumi.Resource, provider: aws.Provider, tags: Mapping[str, str]
) -> NamedEdge:
    """The zone and a DNS-validated certificate for `domain.host` (CloudFront takes them from us-east-1 only)."""
    zone = aws.route53.get_zone_output(
        name=domain.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=parent, provider=provider)
    )
    certificate = dns_validated_certificate(
        f"{name}-domain",
        domain_name=domain.host,
        zone_id=zone.zone_id,
        parent=parent,
        provider=provider,
        create_record=True,
        tags=tags,
    )
    return NamedEdge(zone.zone_id, certificate)


def viewer_certificate(named: NamedEdge | None) -> aws.cloudfront.DistributionViewerCertificateArgs:
    if named is None:
        return aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
    return aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=named.certificate.arn, ssl_support_method="sni-only", minimum_protocol_version="TLSv1.2_2021"
    )


def alias_records(
    name: str, domain: EdgeName, named: NamedEdge, distribution: aws.cloudfront.Distribution, opts: pulumi.ResourceOptions
) -> None:
    """A and AAAA aliases of the host to the distribution."""
    for record_type in ("A", "AAAA"):
        aws.route53.Record(
            f"{name}-{record_type.lower()}",
            zone_id=named.zone_id,
            name=domain.host,
            type=record_type,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=distribution.domain_name, zone_id=CLOUDFRONT_ZONE_ID, evaluate_target_health=False
                )
            ],
            opts=opts,
        )


def edge_origin(domain: EdgeName | None, distribution: aws.cloudfront.Distribution) -> pulumi.Output[str]:
    """`https://` and the name readers use: the domain's host, else the distribution's own name."""
    if domain:
        return pulumi.Output.from_input(f"https://{domain.host}")
    return distribution.domain_name.apply(lambda d: f"https://{d}")
