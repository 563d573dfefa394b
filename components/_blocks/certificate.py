"""A DNS-validated ACM certificate: the one way this program gets certificates.

ACM asks for the same validation CNAME for the same domain name in every region of an account,
so exactly one caller owns the record (`create_record=True`); the others wait for it through
`record_dependency` and validate against the identical name. Two owners would fight over one
record, and deleting one region would break the other's renewals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ValidatedCertificate:
    certificate: aws.acm.Certificate
    validation: aws.acm.CertificateValidation
    record: aws.route53.Record | None

    @property
    def arn(self) -> pulumi.Output[str]:
        # The validation's ARN resolves only once ACM has issued the certificate.
        return self.validation.certificate_arn


def dns_validated_certificate(
    name: str,
    *,
    domain_name: str,
    zone_id: pulumi.Input[str],
    parent: pulumi.Resource,
    create_record: bool,
    provider: pulumi.ProviderResource | None = None,
    record_dependency: pulumi.Resource | None = None,
    key_algorithm: str = "EC_prime256v1",
    tags: Mapping[str, str] | None = None,
) -> ValidatedCertificate:
    # `provider` for parents without one of their own (cross-region components).
    child = pulumi.ResourceOptions(parent=parent, provider=provider)
    certificate = aws.acm.Certificate(
        f"{name}-cert",
        domain_name=domain_name,
        validation_method="DNS",
        key_algorithm=key_algorithm,
        tags=dict(tags or {}),
        # A replacement must exist before the old one is detached from its domain.
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=False)),
    )
    option = certificate.domain_validation_options[0]
    record = None
    if create_record:
        record = aws.route53.Record(
            f"{name}-cert-record",
            zone_id=zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            # The record may already exist from another stack of this account (same name, same value).
            allow_overwrite=True,
            opts=child,
        )
    waits_for = record or record_dependency
    validation = aws.acm.CertificateValidation(
        f"{name}-cert-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[option.resource_record_name],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[waits_for] if waits_for else [])),
    )
    return ValidatedCertificate(certificate=certificate, validation=validation, record=record)
