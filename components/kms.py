"""A customer-managed KMS key with rotation: the one shape every component that needs a CMK uses.

No key policy is given, so AWS applies its default policy: the account root may administer and
use the key and IAM policies grant the rest; no `*` principal. No alias: alias names are unique per
account and region, and two stacks of this project may share an account.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def rotating_key(name: str, description: str, tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.kms.Key:
    key = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=dict(tags),
        opts=opts,
    )
    return key
