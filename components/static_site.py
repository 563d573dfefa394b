"""StaticSite: the front end in a private bucket per region behind one CloudFront distribution.

Creates
- per region `{name}-<region>`: a private bucket (public access blocked, ACLs disabled, SSE,
  versioning, TLS-only policy) readable only by this distribution through OAC (SourceArn
  condition), holding every file of `site_dir` with its content type and cache headers (a
  changed file changes its object: `source_hash`) and `health.html`;
- `{name}-oac`, `{name}-headers` (HSTS, nosniff, frame DENY, referrer policy, a CSP that admits
  the API origin), `{name}-cdn`: one distribution, HTTPS only, HTTP/2+3, IPv6, default root
  object, 403/404 to /404.html; in multi-region stacks an origin group (home bucket primary, next
  region on 403/404/500/502/503/504) with 1 connection attempt x 2 s per origin, so a dead origin
  costs seconds instead of the 30 s default; access logs (to its own bucket, or to
  `log_bucket_domain` under `log_prefix`) and a WAF web ACL when asked;
- with a domain: a DNS-validated certificate in us-east-1 and alias A/AAAA records for the host.
- per `prefix_readers` entry, a statement of each bucket's policy letting that other
  distribution (through its own OAC) read the keys under its prefix, and nothing else.
- `publish_config(values)`: `config.json` beside the content (the API base URL), written after
  the API exists; the API's CORS origin is this site's origin, so neither can be built inside
  the other.

Inputs (`StaticSiteArgs`): `regions`, `providers` (one per region), `global_provider`
(us-east-1), `site_dir`, `api_origin_pattern` (CSP connect-src), `domain`, `price_class`,
`access_logs`, `log_bucket_domain`, `log_prefix`, `web_acl_arn`, `config_page`,
`prefix_readers`, `tags`. Outputs:
`distribution_domain`, `url`, `origin`, `bucket_names`, `bucket_arns` and `bucket_domains`
(`{region: Output[str]}`),
`distribution_id`.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ._blocks.edge_names import (
    PRICE_CLASSES,
    EdgeName,
    alias_records,
    certificate_for,
    edge_origin,
    failover_target,
    security_headers_policy,
    signed_bucket_access,
    viewer_certificate,
)
from ._blocks.private_bucket import PrivateBucket, attach_policy, cloudfront_reads, private_bucket
from .failover_math import ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT_SECONDS

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy
FAILOVER_STATUS_CODES = [403, 404, 500, 502, 503, 504]
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# Entry points must be revalidated so a deploy shows at once; other assets may be cached an hour.
NO_CACHE = "no-cache, max-age=0, must-revalidate"
ASSET_CACHE = "public, max-age=3600"
HEALTH_PAGE = "<!doctype html><title>ok</title><p>ok</p>\n"


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return NO_CACHE if key.endswith((".html", ".json")) else ASSET_CACHE


def site_files(site_dir: Path) -> list[tuple[str, Path]]:
    """(object key, file) for every file to upload; config.json is the program's to write."""
    files = sorted(p for p in site_dir.rglob("*") if p.is_file() and p.name != "config.json" and not p.name.startswith("."))
    return [(str(p.relative_to(site_dir)).replace("\\", "/"), p) for p in files]


CONFIG_ELEMENT_ID = "site-config"


def embed_config(html: str, config_json: str) -> str:
    """`html` with the site's config in a JSON script element at the end of its head: the page
    needs no request for config.json before it can call the API. A JSON script is data, never
    run (the CSP's script-src does not apply to it); `<` is escaped so a value cannot close it."""
    if "</head>" not in html:
        raise ValueError("the page has no </head> to put the config before")
    escaped = config_json.replace("<", "\\u003c")
    element = f'<script type="application/json" id="{CONFIG_ELEMENT_ID}">{escaped}</script>\n'
    return html.replace("</head>", element + "</head>", 1)


def content_security_policy(api_origin_pattern: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            # Thumbnails come as presigned S3 URLs; uploads POST straight to the regional bucket.
            "img-src 'self' data: https://*.amazonaws.com",
            f"connect-src 'self' {api_origin_pattern} https://*.amazonaws.com",
            "form-action 'self' https://*.amazonaws.com",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


SiteDomain = EdgeName  # the site's own host name in a zone the stack owns


@dataclass(frozen=True)
class PrefixReader:
    """Another CloudFront distribution that reads the keys under `prefix` of every site bucket
    (the API's read edge, its stored answers)."""

    prefix: str
    distribution_arn: pulumi.Input[str]


@dataclass(frozen=True)
class PremiumPath:
    """A path of the site (`/premium/*`) CloudFront serves only to a viewer holding cookies (or a
    URL) signed by a key of `key_group_id`, from other buckets (`bucket_domains`, by region: the
    first is asked first, the second when it fails), read through the site's own OAC."""

    prefix: str  # premium/
    key_group_id: pulumi.Input[str]
    bucket_domains: Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True, kw_only=True)
class StaticSiteArgs:
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    global_provider: aws.Provider
    site_dir: Path
    api_origin_pattern: str
    domain: SiteDomain | None = None
    price_class: str = "PriceClass_100"
    access_logs: bool = False
    # Standard logs into a bucket the caller owns (page views are counted from them), instead of
    # access_logs' own bucket.
    log_bucket_domain: pulumi.Input[str] | None = None
    log_prefix: str = "site/"
    web_acl_arn: str | None = None
    # A page of site_dir written by publish_config with the config in it (embed_config) rather
    # than as a file; None: every page as it is, the config only in config.json.
    config_page: str | None = None
    prefix_readers: Sequence[PrefixReader] = ()
    premium: PremiumPath | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("StaticSiteArgs.regions: at least one region is required")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"StaticSiteArgs.providers: no provider for region(s) {', '.join(missing)}")
        if not (self.site_dir / "index.html").is_file():
            raise ValueError(f"StaticSiteArgs.site_dir: {self.site_dir} has no index.html")
        if not (self.site_dir / "404.html").is_file():
            raise ValueError(f"StaticSiteArgs.site_dir: {self.site_dir} has no 404.html")
        if self.price_class not in PRICE_CLASSES:
            raise ValueError(f"StaticSiteArgs.price_class: {self.price_class!r} is not a CloudFront price class")
        if self.access_logs and self.log_bucket_domain is not None:
            raise ValueError(
                "StaticSiteArgs.access_logs: the logs already go to log_bucket_domain; a distribution logs to one bucket"
            )
        if self.config_page is not None and not (self.site_dir / self.config_page).is_file():
            raise ValueError(f"StaticSiteArgs.config_page: {self.site_dir} has no {self.config_page}")
        if self.premium is not None and (
            not self.premium.bucket_domains or self.premium.prefix.startswith("/") or not self.premium.prefix.endswith("/")
        ):
            raise ValueError("StaticSiteArgs.premium: a key prefix like premium/ and at least one bucket")
        for reader in self.prefix_readers:
            if not reader.prefix or reader.prefix.startswith("/") or not reader.prefix.endswith("/"):
                raise ValueError(f"StaticSiteArgs.prefix_readers: {reader.prefix!r} is not a key prefix like api/")


class StaticSite(pulumi.ComponentResource):
    distribution_domain: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    origin: pulumi.Output[str]
    url: pulumi.Output[str]
    bucket_names: dict[str, pulumi.Output[str]]
    bucket_arns: dict[str, pulumi.Output[str]]
    bucket_domains: dict[str, pulumi.Output[str]]  # each bucket's regional domain name

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:StaticSite", name, None, opts)
        self._name, self._args = name, args
        tags = dict(args.tags)
        on_edge = pulumi.ResourceOptions(parent=self, provider=args.global_provider)

        def in_region(region: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region])

        self._buckets: dict[str, PrivateBucket] = {
            region: private_bucket(f"{name}-{region}", in_region(region), tags, with_policy=False) for region in args.regions
        }
        self._in_region = in_region
        for region, bucket in self._buckets.items():
            for key, path in site_files(args.site_dir):
                if key == args.config_page:
                    continue  # publish_config writes it, with the config in it
                aws.s3.BucketObjectv2(
                    f"{name}-{region}-{key.replace('/', '-')}",
                    bucket=bucket.bucket.id,
                    key=key,
                    source=pulumi.FileAsset(str(path)),
                    source_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                    content_type=content_type(path),
                    cache_control=cache_control(key),
                    opts=in_region(region),
                )
            aws.s3.BucketObjectv2(
                f"{name}-{region}-health",
                bucket=bucket.bucket.id,
                key="health.html",
                content=HEALTH_PAGE,
                content_type="text/html; charset=utf-8",
                cache_control=NO_CACHE,
                opts=in_region(region),
            )

        oac = signed_bucket_access(name, "Signed (SigV4) reads of the site buckets by this distribution only", on_edge)
        headers = security_headers_policy(
            name,
            "HSTS, nosniff, no framing, strict referrer, CSP admitting the API",
            content_security_policy(args.api_origin_pattern),
            on_edge,
        )

        origins = [
            aws.cloudfront.DistributionOriginArgs(
                origin_id=f"s3-{region}",
                domain_name=bucket.bucket.bucket_regional_domain_name,
                origin_access_control_id=oac.id,
                connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
                connection_timeout=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
            )
            for region, bucket in self._buckets.items()
        ]
        target, origin_groups = failover_target("site-failover", [f"s3-{r}" for r in args.regions], FAILOVER_STATUS_CODES)
        premium_behaviours = []
        if args.premium is not None:
            origins += [
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=f"premium-{region}",
                    domain_name=domain,
                    origin_access_control_id=oac.id,
                    connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
                    connection_timeout=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
                )
                for region, domain in args.premium.bucket_domains.items()
            ]
            premium_target, premium_groups = failover_target(
                "premium-failover", [f"premium-{r}" for r in args.premium.bucket_domains], FAILOVER_STATUS_CODES
            )
            origin_groups = [*(origin_groups or []), *(premium_groups or [])] or None
            premium_behaviours.append(
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=f"/{args.premium.prefix}*",
                    target_origin_id=premium_target,
                    viewer_protocol_policy="https-only",
                    allowed_methods=["GET", "HEAD", "OPTIONS"],
                    cached_methods=["GET", "HEAD"],
                    # No cookie, header or query string in the key or to the origin: the signed
                    # cookies are checked at the edge and every holder shares one cached copy.
                    cache_policy_id=CACHING_OPTIMIZED,
                    trusted_key_groups=[args.premium.key_group_id],
                    response_headers_policy_id=headers.id,
                    compress=True,
                )
            )

        named = certificate_for(name, args.domain, self, args.global_provider, tags) if args.domain else None
        logging = None
        if args.log_bucket_domain is not None:
            logging = aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=args.log_bucket_domain, prefix=args.log_prefix, include_cookies=False
            )
        elif args.access_logs:
            logging = aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=self._log_bucket(name, on_edge, tags).bucket_domain_name, prefix=f"{name}/", include_cookies=False
            )

        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"{pulumi.get_project()} {pulumi.get_stack()} static site",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=args.price_class,
            default_root_object="index.html",
            aliases=[args.domain.host] if args.domain else None,
            origins=origins,
            origin_groups=origin_groups,
            ordered_cache_behaviors=premium_behaviours or None,
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=target,
                viewer_protocol_policy="redirect-to-https",
                # Origin groups fail over for these methods only.
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=headers.id,
                compress=True,
            ),
            custom_error_responses=[
                aws.cloudfront.DistributionCustomErrorResponseArgs(
                    error_code=code, response_code=404, response_page_path="/404.html", error_caching_min_ttl=10
                )
                # Without ListBucket S3 answers a missing key with 403.
                for code in (403, 404)
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
            ),
            viewer_certificate=viewer_certificate(named),
            logging_config=logging,
            web_acl_id=args.web_acl_arn,
            tags=tags,
            opts=on_edge,
        )

        for region, bucket in self._buckets.items():
            attach_policy(
                f"{name}-{region}",
                bucket,
                in_region(region),
                [
                    cloudfront_reads(bucket, distribution.arn),
                    *(
                        cloudfront_reads(bucket, reader.distribution_arn, reader.prefix, f"PrefixReaderThroughOAC{index}")
                        for index, reader in enumerate(args.prefix_readers)
                    ),
                ],
            )

        if args.domain and named:
            alias_records(name, args.domain, named, distribution, on_edge)

        self.distribution_domain = distribution.domain_name
        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.origin = edge_origin(args.domain, distribution)
        self.url = self.origin.apply(lambda o: o + "/")
        self.bucket_names = {r: b.name for r, b in self._buckets.items()}
        self.bucket_arns = {r: b.arn for r, b in self._buckets.items()}
        self.bucket_domains = {r: b.bucket.bucket_regional_domain_name for r, b in self._buckets.items()}
        self.register_outputs(
            {"distribution_domain": self.distribution_domain, "url": self.url, "bucket_names": self.bucket_names}
        )

    def publish_config(self, values: Mapping[str, pulumi.Input[Any]]) -> None:
        """Write config.json into every region's bucket, and the config page (config_page) with
        the same values in it."""
        content = pulumi.Output.from_input(dict(values)).apply(lambda v: json.dumps(v, sort_keys=True, indent=2) + "\n")
        page = self._args.config_page
        for region, bucket in self._buckets.items():
            if page is not None:
                html = (self._args.site_dir / page).read_text()
                aws.s3.BucketObjectv2(
                    f"{self._name}-{region}-{page.replace('/', '-')}",
                    bucket=bucket.bucket.id,
                    key=page,
                    content=content.apply(lambda c, html=html: embed_config(html, c)),
                    content_type="text/html; charset=utf-8",
                    cache_control=NO_CACHE,
                    opts=self._in_region(region),
                )
            aws.s3.BucketObjectv2(
                f"{self._name}-{region}-config.json",
                bucket=bucket.bucket.id,
                key="config.json",
                content=content,
                content_type="application/json",
                cache_control=NO_CACHE,
                opts=self._in_region(region),
            )

    @staticmethod
    def _log_bucket(name: str, on_edge: pulumi.ResourceOptions, tags: Mapping[str, str]) -> aws.s3.Bucket:
        """CloudFront standard logs need a bucket that accepts the log-delivery ACL (an exception
        to 'ACLs disabled', allowed for this bucket only); private, encrypted, 90-day expiry."""
        return private_bucket(
            f"{name}-logs",
            on_edge,
            {**tags, "purpose": "cloudfront-access-logs"},
            object_ownership="BucketOwnerPreferred",
            versioned=False,
            expire_objects_after_days=90,
        ).bucket
