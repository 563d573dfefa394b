"""Configs a team would really write, beside the shipped two: the stack tests hold every
invariant for each (tests/stacks/test_variants.py), and the scanner coverage reads the resource
types they plan (verify/coverage.py), so one offline run serves both.
"""


# An image pinned by digest in the home region's registry (the container variants).
def container_image(home: str) -> str:
    return f"123456789012.dkr.ecr.{home}.amazonaws.com/blog-api@sha256:{'5e' * 32}"


# name -> (base stack, overrides): each changes what the expectations are derived from. Choices
# that do not depend on each other share a variant (each variant is a whole offline run).
VARIANTS: dict[str, tuple[str, dict]] = {
    "three-regions-warm-database": (
        "dr",
        {
            "regions": ["us-east-1", "us-west-2", "eu-west-1"],
            "relationalDb": "aurora-serverless",
            "relationalDbSecondary": "warm",
            "relationalDbAutomaticFailover": True,
        },
    ),
    "failover-routing-locked-hourly-backups-pilot-light-headless-database": (
        "dr",
        {
            "routing": "failover",
            "backupVaultLock": True,
            "backupSchedule": "cron(0 * * * ? *)",
            "backupRetentionDays": 90,
            "healthReservedConcurrency": 7,
            "containerBackend": "pilot-light",
            "containerImage": container_image("us-east-1"),
            "containerNetwork": "private-nat",
            "relationalDb": "aurora-serverless",
            "paidContent": "signed-cookies",  # its session's grant, in the IAM contract make test runs
        },
    ),
    # Hardening and every standing charge a team may choose (or not: alarms, backups) together.
    "real-domain-hardened-functions-standing-charges-no-backups": (
        "dr",
        {
            "domain": "blog.acme.io",
            "apiSubdomain": "edge",
            "siteSubdomain": "blog",
            "apiWebAclArns": ["arn:aws:wafv2:us-west-2:123456789012:regional/webacl/blog/0f1e2d"],
            "logEncryption": "customer-managed",
            "functionEnvironmentEncryption": "customer-managed",
            "tableEncryption": "customer-managed",
            "functionConcurrencyLimit": 20,
            "healthReservedConcurrency": 5,
            "pageViewTransport": "kinesis-on-demand",
            "siteAccessLogs": True,
            "alarms": False,
            "dashboard": True,
            "healthCheckLatencyGraphs": True,
            "apiCacheEnabled": True,
            "analyticsBufferSeconds": 900,
            "analyticsBytesScannedLimitMb": 50,
            "backups": False,
            # Paid content during a key rotation: two keys in the group, the new one signing.
            "paidContent": "signed-cookies",
            "premiumCookieSeconds": 600,
            "premiumSigningKeys": ["k2", "k1"],
            "readerTokenMinutes": 30,
        },
    ),
    "evacuated-home-customer-managed-keys-database-backup-copy": (
        "dr",
        {
            "evacuatedRegions": ["us-east-1"],
            "tableEncryption": "customer-managed",
            "relationalDb": "aurora-serverless",
            "relationalDbDr": "backup-copy",
            "paidContent": "signed-cookies",  # premium media read from the serving region first
            "premiumTestPurchases": True,
        },
    ),
    "strong-with-witness-private-containers": (
        "dr",
        {
            "consistency": "strong",
            "witnessRegion": "us-east-2",
            "containerBackend": "warm",
            "containerImage": container_image("us-east-1"),
            "containerNetwork": "private-endpoints",
            "containerMinTasks": 2,
            "containerArchitecture": "X86_64",
            "containerCpu": 512,
            "containerMemory": 2048,
            "containerRoutes": ["GET /posts", "GET /posts/{id}"],
        },
    ),
    "single-region-with-domain-and-environment-key": (
        "dev",
        {
            "regions": ["eu-central-1"],
            "domain": "blog.acme.io",
            "functionEnvironmentEncryption": "customer-managed",
            "pageViewTransport": "kinesis-provisioned",
            "backupSchedule": "cron(0 5 ? * SUN *)",
            "backupRetentionDays": 28,
            "containerBackend": "warm",
            "containerImage": container_image("eu-central-1"),
            "relationalDb": "aurora-serverless",
        },
    ),
    "no-analytics-mail-without-domain-site-logs-and-waf": (
        "dev",
        {
            "analytics": False,
            "senderEmail": "blog@example.org",
            "siteAccessLogs": True,
            "siteWebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/blog/0123abcd-0000-4000-8000-000000000000",
        },
    ),
}
