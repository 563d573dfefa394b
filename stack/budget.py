"""The DR budget: how long losing a region costs the users, and how much data, computed from config.

Figures (Route 53, DynamoDB, S3 and CloudFront documentation):
- Route 53 marks an endpoint unhealthy after `failure_threshold` consecutive failures, one check
  per `request_interval`; resolvers then hold the old alias answer for up to its TTL, which is
  60 s for an alias to API Gateway.
- CloudFront fails over per request for GET/HEAD/OPTIONS; an origin that refuses connections costs
  connection_attempts x connection_timeout seconds before the secondary is tried, one that
  accepts and stalls costs the response timeout (30 s, not settable for S3 origins here).
- Eventual global tables replicate typically within a second (no SLA); strong ones have RPO 0.
- S3 Replication Time Control replicates 99.99 % of objects within 15 minutes.
- Writes (single-primary) fail over under the write lease, with no operator when writeFailover
  is automatic: the bound is the code's own arithmetic (functions/shared/failover_timing.py), and
  `make soak` measures it over a thousand partition, drift and crash schedules.
- The API's reads at the edge (edgeReads) are as stale as edgeCacheSeconds at most; a miss fails
  over per request inside the origin group (two regions: CloudFront's limit) after a refused
  connection (1 attempt x 2 s) or a stall (the 5 s read timeout); page views counted from the
  edge's standard logs lag as their delivery does (usually within the hour, up to 24 h).
- Post pages (postPages) are the site's objects: as stale as edgeCacheSeconds plus the time a
  region's renderer takes to see the post in its replica's stream (seconds); they fail over with
  the site's origin group (a page missing from one bucket is asked of the next too); their views
  lag the site's log delivery plus the counter's batching window.
- Container routes (containerBackend): warm ones fail over with the API; a pilot-light standby is
  scaled from zero first, about a minute to pull and start an image (aws/containers-roadmap#696)
  plus the load balancer's two 10 s health checks.
- Replication copies a bad write everywhere; what undoes it is a restore. PITR restores the table
  to any second of the last 35 days (up to about 5 minutes ago); AWS Backup recovery points (table and media) are as old as
  the longest gap of the backup schedule plus the job's start window. Restore time has no AWS
  figure: `sdr restore-test --stack <stack>` measures it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from components import aws_cron
from components._blocks.private_bucket import NONCURRENT_VERSION_DAYS
from components.backups import START_WINDOW_MINUTES
from components.failover_math import (
    ALIAS_TTL_SECONDS,
    ORIGIN_CONNECTION_ATTEMPTS,
    ORIGIN_CONNECTION_TIMEOUT_SECONDS,
    ORIGIN_RESPONSE_TIMEOUT_SECONDS,
    api_failover_seconds,
    container_scale_seconds,
    detection_seconds,
)
from functions.shared import failover_timing

S3_RTC_SECONDS = 15 * 60
PITR_WINDOW_DAYS = 35


@dataclass(frozen=True)
class DrBudget:
    regions: list[str]
    routing: str
    evacuated_regions: list[str]
    detection_seconds: int | None
    api_rto_seconds: int | None
    rto_budget_seconds: int
    alias_ttl_seconds: int | None
    static_failover_seconds: int | None
    static_failover_stalled_origin_seconds: int | None
    static_failover: str
    rpo: dict[str, str]
    write_failover: dict | None
    backup: dict | None
    edge_reads: dict | None = None
    post_pages: dict | None = None
    containers: dict | None = None
    relational: dict | None = None
    paid_content: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def compute_budget(cfg) -> DrBudget:
    """`cfg` is a StackConfig; a single region has nothing to fail over to, so no RTO is claimed."""
    multi = len(cfg.regions) > 1
    static_seconds = ORIGIN_CONNECTION_ATTEMPTS * ORIGIN_CONNECTION_TIMEOUT_SECONDS
    return DrBudget(
        regions=list(cfg.regions),
        routing=cfg.routing if multi else "single-region",
        evacuated_regions=list(cfg.evacuated_regions),
        detection_seconds=detection_seconds(cfg.health_check_interval, cfg.health_check_failure_threshold) if multi else None,
        api_rto_seconds=api_failover_seconds(cfg.health_check_interval, cfg.health_check_failure_threshold) if multi else None,
        rto_budget_seconds=cfg.rto_budget_seconds,
        alias_ttl_seconds=ALIAS_TTL_SECONDS if multi else None,
        static_failover_seconds=static_seconds if multi else None,
        static_failover_stalled_origin_seconds=ORIGIN_CONNECTION_ATTEMPTS * ORIGIN_RESPONSE_TIMEOUT_SECONDS if multi else None,
        static_failover=(
            f"CloudFront origin group, per request (GET/HEAD/OPTIONS): {ORIGIN_CONNECTION_ATTEMPTS} attempt x "
            f"{ORIGIN_CONNECTION_TIMEOUT_SECONDS} s to {cfg.regions[0]} when it refuses connections (up to "
            f"{ORIGIN_RESPONSE_TIMEOUT_SECONDS} s when it accepts and stalls), then {cfg.regions[1]}"
            if multi
            else "single origin, no failover"
        ),
        rpo={
            "table": _table_rpo(cfg, multi),
            "media": f"99.99 % of objects within {S3_RTC_SECONDS} s (S3 RTC)" if multi else "n/a (single region)",
        },
        write_failover=write_failover_budget(cfg),
        backup=backup_budget(cfg),
        edge_reads=edge_reads_budget(cfg),
        post_pages=post_pages_budget(cfg, static_seconds if multi else None),
        containers=containers_budget(cfg),
        relational=relational_budget(cfg),
        paid_content=paid_content_budget(cfg),
    )


def paid_content_budget(cfg) -> dict | None:
    """Premium media (paidContent): what a reader keeps and loses with a region gone. Cookies are
    checked at the edge and media come through the site's origin group, so delivery needs no
    region; a new session needs the API's name to answer (its DNS failover), the reader's token
    (the pool's region only to sign in or refresh) and the region's own secret replica."""
    paid = cfg.paid_content
    if not paid.enabled:
        return None
    multi = len(cfg.regions) > 1
    failover = api_failover_seconds(cfg.health_check_interval, cfg.health_check_failure_threshold) if multi else None
    # The page renews a session at half its life (site/premium.js), so a reader always holds at
    # least half a life of cookie: no gap when that outlasts the API name's failover.
    renewal_margin = paid.cookie_seconds // 2
    return {
        "cookie_seconds": paid.cookie_seconds,
        "session_renewed_with_seconds_left": renewal_margin,
        "media_delivery": "CloudFront checks the cookies at the edge; the premium buckets' origin group fails over per request"
        if multi
        else "CloudFront checks the cookies at the edge; one bucket",
        "new_session_after_seconds": failover,
        "playing_reader_gap_seconds": max(0, failover - renewal_margin) if failover is not None else None,
        "token_minutes": paid.token_minutes,
        "sign_in": f"the user pool in {cfg.home_region}: with it lost, new sign-ins and token refreshes wait for it; "
        f"a signed-in reader's token keeps getting sessions for up to {paid.token_minutes} minutes",
        "purchases": "the write path: deferred (202) while no region holds the write lease, landing after the promotion",
    }


def relational_budget(cfg) -> dict | None:
    """The relational store (relationalDb): how much it can lose and how long it refuses writes
    when its region is lost (global: a promotion; backup-copy: a restore, measured by restore-test)."""
    store = cfg.relational
    if not store.enabled:
        return None
    if not store.is_global:
        gap = aws_cron.parse(cfg.backup_schedule).longest_gap_seconds() if cfg.backups else None
        return {
            "mode": "single-region" if len(cfg.regions) == 1 else "backup-copy",
            "rpo": f"the backup gap, {gap + START_WINDOW_MINUTES * 60} s" if gap else "none: backups are off",
            "rto_seconds": None,
            "rto": "a restore from the backups (measured by sdr restore-test)",
            "pauses_after_seconds": store.seconds_until_auto_pause if store.pauses else None,
        }
    return {
        "mode": f"global, {store.secondary} secondaries",
        "rpo": "asynchronous replication, typically under a second; a failover without the primary may lose what had not replicated",
        "rto_seconds": store.rto_seconds,
        "rto_budget_seconds": store.rto_budget_seconds,
        "pauses_after_seconds": None,
        # What the automatic promotion does with the database's writer (shared/database_follower.py).
        "without_operator": (
            "switchover, or failover losing what had not replicated"
            if store.automatic_failover
            else "switchover when every region answers; otherwise the ledger waits for promote --allow-data-loss"
        ),
    }


def containers_budget(cfg) -> dict | None:
    """The container routes (containerBackend): where tasks run, and how long the routes are down
    when a region is lost (warm: the API's own failover; pilot-light: a standby scaled from zero)."""
    containers = cfg.container
    if not containers.enabled:
        return None
    multi = len(cfg.regions) > 1
    pilot = containers.mode == "pilot-light" and multi
    return {
        "mode": containers.mode,
        "routes": list(containers.routes),
        "tasks_by_region": {r: containers.tasks_in(r, cfg.home_region) for r in cfg.regions},
        "min_tasks": containers.min_tasks,
        "max_tasks": containers.max_tasks,
        # Image pull and start (an estimate; only a real account measures it) plus target health checks.
        "scale_seconds": container_scale_seconds() if pilot else None,
        "rto_seconds": containers.rto_seconds if multi else None,
        "rto_budget_seconds": containers.rto_budget_seconds,
        "standby": (f"sdr drill scale-containers --stack {cfg.stack} --region <standby> --measure" if pilot else None),
    }


def edge_reads_budget(cfg) -> dict | None:
    """The API's reads at the edge (edgeReads): how stale, how fast they fail over, how late views count."""
    if not cfg.edge_reads:
        return None
    from stack.edge import EDGE_ORIGIN_READ_TIMEOUT_SECONDS

    group = cfg.serving_regions[:2]
    return {
        "stale_at_most_seconds": cfg.edge_cache_seconds,
        "origin_group": group if len(group) > 1 else None,
        "failover_refused_seconds": ORIGIN_CONNECTION_ATTEMPTS * ORIGIN_CONNECTION_TIMEOUT_SECONDS if len(group) > 1 else None,
        "failover_stalled_seconds": EDGE_ORIGIN_READ_TIMEOUT_SECONDS if len(group) > 1 else None,
        # CloudFront Developer Guide, "Timing of log file delivery". With post pages the views are
        # the pages' requests, counted from the site's logs (post_pages_budget).
        "view_count_lag": None if cfg.post_pages else "usually within an hour of the view, some entries up to 24 hours",
        "stored_answers": _stored_answers_budget(cfg),
    }


def _stored_answers_budget(cfg) -> dict | None:
    """GET /posts/{id} from the stored answers (postPages with edgeReads): where it is read, who
    answers when that fails, how old its parts may be."""
    if not cfg.stored_answers:
        return None
    first, *others = cfg.serving_regions
    return {
        "read_from": f"the {first} site bucket",
        "fallback": f"the {(others or [first])[0]} API (a post not stored there, or the bucket failing)",
        "edit_visible_after": "the render (seconds after the edit reaches the replica) plus CloudFront's invalidation",
        "views_stale_at_most_seconds": cfg.stored_answer_seconds,
    }


def post_pages_budget(cfg, failover_seconds: int | None) -> dict | None:
    """Posts as pages of their own (postPages): how stale, how they fail over, how late views count."""
    if not cfg.post_pages:
        return None
    from stack.edge import LOG_BATCHING_SECONDS

    return {
        "stale_at_most_seconds": cfg.edge_cache_seconds,
        "plus": "the render: seconds after the post reaches the region's replica",
        "failover_seconds": failover_seconds,
        "view_count_lag": f"the site's log delivery (usually within an hour, up to 24 hours) plus up to {LOG_BATCHING_SECONDS} s of batching",
    }


def _table_rpo(cfg, multi: bool) -> str:
    if not multi:
        return "n/a (single region)"
    if cfg.consistency == "strong":
        return "0 s (strong consistency, MRSC)"
    if cfg.write_lease:
        return (
            "0 s for acknowledged writes: each is confirmed at every in-sync region before it is answered "
            "(a region that lags leaves the set and is promoted only with --out-of-sync)"
        )
    return "typically < 1 s (eventual, last writer wins, no SLA)"


def write_failover_budget(cfg) -> dict | None:
    """How long writes stop when the primary's region is lost (None: no primary to lose, in one
    region or with any-region writes)."""
    if not cfg.write_lease:
        return None
    lease = cfg.lease_seconds
    automatic = cfg.write_failover == "automatic"
    return {
        "mode": cfg.write_failover,
        "lease_seconds": lease,
        "renew_every_seconds": failover_timing.renew_every_seconds(lease),
        "clock_drift_assumed_seconds": failover_timing.DRIFT_SECONDS,
        "write_rto_seconds": failover_timing.write_rto_seconds(lease) if automatic else None,
        "without_an_operator": automatic,
        "deferred_writes": (
            f"answered 202, applied at the new primary within {failover_timing.DEFERRED_WRITE_MAX_DELAY_SECONDS} s of it "
            f"taking the lease; kept up to {failover_timing.DEFERRED_WRITE_MAX_WAIT_DAYS} days, then recorded dead-lettered"
        ),
        "voters": list(cfg.lease_voter_regions),
    }


def backup_budget(cfg) -> dict | None:
    """How much a restore loses after a bad write replicated everywhere (None: backups are off)."""
    if not cfg.backups:
        return None
    gap = aws_cron.parse(cfg.backup_schedule).longest_gap_seconds()
    return {
        "schedule": cfg.backup_schedule,
        "backup_rpo_seconds": gap + START_WINDOW_MINUTES * 60,
        # DynamoDB documents LatestRestorableDateTime as typically 5 minutes before now.
        "table_pitr": f"any second of the last {PITR_WINDOW_DAYS} days up to about 5 minutes ago",
        "media_versions": f"any second of the last {NONCURRENT_VERSION_DAYS} days (object versions)",
        "retention_days": cfg.backup_retention_days,
        "vault_lock": cfg.backup_vault_lock,
        "copies_to": cfg.backup_copy_region,
        "restore_seconds": "measured: sdr restore-test --stack <stack>",
    }
