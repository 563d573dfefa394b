"""Hardening: optional controls a component applies to every function and log group it creates.

Each is off by default because each costs something a small stack may not want to pay:
- `log_key_arn`: a customer managed key for the log groups (KMS bills $1 a month per key). The
  key's policy must let `logs.<region>.amazonaws.com` use it (`rotating_key(...,
  service_principals=["logs.<region>.amazonaws.com"])` writes that statement); the log groups of
  a component are in one region, so the key is that region's.
- `environment_key_arn`: a customer managed key for the functions' environment variables instead
  of the AWS managed `aws/lambda` key. Lambda creates a grant for each execution role when it
  saves the function, so the roles need no KMS permission; the principal that runs `pulumi up`
  needs kms:CreateGrant, kms:Encrypt and kms:Decrypt on the key.
- `concurrency_limit`: reserved concurrency of every function (a cap, and a reservation the
  account must have room for: 100 executions stay unreserved per region). A function given its
  own `reserved_concurrency` keeps it. SQS-fed consumers also get the limit as the mapping's
  maximum concurrency, so the poller never invokes past the cap (throttled SQS invocations would
  return messages and count receives toward the DLQ). Stream consumers need at least one
  execution per shard.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

# The smallest maximum concurrency an SQS event source mapping accepts.
MIN_SQS_MAXIMUM_CONCURRENCY = 2


@dataclass(frozen=True, kw_only=True)
class Hardening:
    log_key_arn: pulumi.Input[str] | None = None
    environment_key_arn: pulumi.Input[str] | None = None
    concurrency_limit: int | None = None

    def validate(self, owner: str) -> None:
        if self.concurrency_limit is not None and self.concurrency_limit < MIN_SQS_MAXIMUM_CONCURRENCY:
            raise ValueError(
                f"{owner}.hardening.concurrency_limit: {self.concurrency_limit}; at least {MIN_SQS_MAXIMUM_CONCURRENCY}"
                " (the smallest SQS maximum concurrency), or None for no limit"
            )
