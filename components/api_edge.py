"""ApiEdge: the API's reads through one CloudFront distribution, cached where that is safe, with
an origin group over the regional APIs so a read fails over at the edge for every client.

Creates (all with the global, us-east-1 provider)
- `{name}-reads`: a cache policy for the routes marked `edge_cached`: every answer kept exactly
  `ttl_seconds` (minimum = default = maximum, so the origin's `no-store`, meant for browsers,
  does not turn the edge off), keyed on the route's query parameters, the `v` a writer adds to
  read its own change past the cache, and the `Origin` header (the CORS answer differs by it);
  no cookie, no Authorization, no API key: nothing that could make an answer one client's;
- `{name}-cdn`: the distribution, HTTPS only, one origin per region (the regional API's
  execute-api name and stage; 1 connection attempt x 2 s, a read timeout of
  `origin_read_timeout` s), an origin group (the first two serving regions: CloudFront's groups
  hold two origins) failing over on 500/502/503/504 and on a refused or stalled origin, a
  behaviour per GET route (the cached ones under the policy above, the others with caching off,
  forwarding only `Origin`), `/` answered with /health, a response headers policy (HSTS,
  nosniff, no framing, a CSP that loads nothing), GET/HEAD/OPTIONS only (origin groups fail over for these methods
  alone; writes go to the regions), errors never cached (a 404 for a post being created, a 503
  from a drained region), standard logs to `log_bucket` when given (page views are counted from
  them);
- with `stored` (StoredAnswers): one GET route answered from objects a writer keeps in a bucket
  (read through an origin access control of its own, SigV4), kept `stored.ttl_seconds` under a
  cache policy of its own (the writer invalidates what changes), in an origin group whose second
  member is a region's API: what the bucket does not hold (S3 answers 403 without ListBucket) or
  cannot serve is answered there; a response headers policy adds the CORS headers the bucket
  cannot, for the site's origin only;
- with a domain: a DNS-validated certificate in us-east-1 and alias A/AAAA records for the host.

Inputs (`ApiEdgeArgs`): `origins` (`{region: (execute-api domain, stage)}`, in failover order),
`routes`, `global_provider`, `ttl_seconds`, `price_class`, `log_bucket_domain`, `log_prefix`,
`web_acl_arn`, `domain`, `stored`, `tags`. Outputs: `url`, `domain`, `distribution_id`,
`distribution_arn`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
from .failover_math import ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT_SECONDS
from .openapi import Route

# AWS managed policies (CloudFront Developer Guide, "Use managed cache policies" and "Use managed
# origin request policies").
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CORS_CUSTOM_ORIGIN = "59781a5b-3903-41f3-afcb-af62929ccde1"  # forwards the viewer's Origin only
# JSON answers: nothing in them may load, run or be framed.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# What `/` shows: the health document (instead of the gateway's "Missing Authentication Token").
ROOT_OBJECT = "health"
ORIGIN_FAILOVER_STATUS_CODES = [500, 502, 503, 504]
# The codes CloudFront caches by default when an origin answers them (10 s): none is kept here.
UNCACHED_ERROR_CODES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]
# A query parameter a client adds to read past the cache (its own edit): in every cached key.
VERSION_PARAMETER = "v"
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
# A stored answer's bucket answers a key it does not hold with 403 (no ListBucket): then, and
# when it fails, the group asks the region's API.
STORED_FAILOVER_STATUS_CODES = [403, 404, *ORIGIN_FAILOVER_STATUS_CODES]
STORED_ORIGIN_ID = "stored-answers"
STORED_TTL_SECONDS_MAX = 86_400


def path_pattern(route_path: str) -> str:
    """The CloudFront path pattern of an API route: a path parameter becomes `*`."""
    return "/".join("*" if part.startswith("{") else part for part in route_path.split("/"))


def behaviour_order(routes: Sequence[Route]) -> list[Route]:
    """The GET routes in the order of their behaviours, the most specific first: CloudFront takes
    the first pattern that matches."""
    return sorted((r for r in routes if r.method == "get"), key=lambda r: (-r.path.count("/"), r.path))


def cache_key_query(routes: Sequence[Route]) -> list[str]:
    """The query strings in the cached key: every cached route's, and the read-your-edit `v`."""
    return sorted({q for r in routes if r.edge_cached for q in r.query} | {VERSION_PARAMETER})


@dataclass(frozen=True, kw_only=True)
class StoredAnswers:
    """A GET route whose answers a writer keeps as objects under `origin_path` in a bucket (the
    route's path is the key), kept up to date and invalidated by that writer."""

    route_path: str
    bucket_domain: pulumi.Input[str]  # the bucket's regional domain name
    origin_path: str
    fallback_region: str  # whose API answers what the bucket does not
    ttl_seconds: int
    allowed_origin: pulumi.Input[str]  # the one browser origin that reads it (CORS)


@dataclass(frozen=True, kw_only=True)
class ApiEdgeArgs:
    origins: Mapping[str, tuple[pulumi.Input[str], str]]  # region -> (execute-api domain, stage)
    routes: Sequence[Route]
    global_provider: aws.Provider
    ttl_seconds: int = 60
    origin_read_timeout: int = 5
    price_class: str = "PriceClass_100"
    log_bucket_domain: pulumi.Input[str] | None = None
    log_prefix: str = "api-edge/"
    web_acl_arn: str | None = None
    domain: EdgeName | None = None
    stored: StoredAnswers | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.origins:
            raise ValueError("ApiEdgeArgs.origins: at least one regional API is required")
        if not 1 <= self.ttl_seconds <= 3600:
            raise ValueError(f"ApiEdgeArgs.ttl_seconds: {self.ttl_seconds} is outside 1-3600")
        if not 1 <= self.origin_read_timeout <= 60:
            raise ValueError(f"ApiEdgeArgs.origin_read_timeout: {self.origin_read_timeout} is outside 1-60")
        if self.price_class not in PRICE_CLASSES:
            raise ValueError(f"ApiEdgeArgs.price_class: {self.price_class!r} is not a CloudFront price class")
        reads = [r for r in self.routes if r.method == "get"]
        if not reads:
            raise ValueError("ApiEdgeArgs.routes: no GET route to serve")
        keyed = [f"GET {r.path}" for r in reads if r.keyed]
        if keyed:
            raise ValueError(f"ApiEdgeArgs.routes: {', '.join(keyed)} need the API key; a keyed read is never served here")
        if self.stored is not None:
            self._validate_stored(self.stored, reads)

    def _validate_stored(self, stored: StoredAnswers, reads: list[Route]) -> None:
        if not any(r.path == stored.route_path and r.edge_cached for r in reads):
            raise ValueError(f"ApiEdgeArgs.stored.route_path: {stored.route_path} is not a cached GET route of the edge")
        if stored.fallback_region not in self.origins:
            raise ValueError(f"ApiEdgeArgs.stored.fallback_region: {stored.fallback_region} has no API origin here")
        if not 1 <= stored.ttl_seconds <= STORED_TTL_SECONDS_MAX:
            raise ValueError(f"ApiEdgeArgs.stored.ttl_seconds: {stored.ttl_seconds} is outside 1-{STORED_TTL_SECONDS_MAX}")
        if not stored.origin_path.startswith("/") or stored.origin_path.endswith("/"):
            raise ValueError(f"ApiEdgeArgs.stored.origin_path: {stored.origin_path!r} must start with / and not end with one")


class ApiEdge(pulumi.ComponentResource):
    url: pulumi.Output[str]
    domain: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ApiEdgeArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:ApiEdge", name, None, opts)
        on_edge = pulumi.ResourceOptions(parent=self, provider=args.global_provider)
        tags = dict(args.tags)
        headers = security_headers_policy(
            name, "HSTS, nosniff, no framing, a CSP that loads nothing", API_CONTENT_SECURITY_POLICY, on_edge
        )
        named = certificate_for(name, args.domain, self, args.global_provider, tags) if args.domain else None

        policy = _cache_policy(
            f"{name}-reads",
            f"{name}-{pulumi.get_project()}-{pulumi.get_stack()}-reads",
            f"API reads kept {args.ttl_seconds} s, keyed on their query, v and Origin",
            args.ttl_seconds,
            cache_key_query(args.routes),
            on_edge,
        )

        origins = [
            aws.cloudfront.DistributionOriginArgs(
                origin_id=f"api-{region}",
                domain_name=domain,
                origin_path=f"/{stage}",
                connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
                connection_timeout=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    http_port=80,
                    https_port=443,
                    origin_protocol_policy="https-only",
                    origin_ssl_protocols=["TLSv1.2"],
                    origin_read_timeout=args.origin_read_timeout,
                ),
            )
            for region, (domain, stage) in args.origins.items()
        ]
        target, origin_groups = failover_target("api-failover", [f"api-{r}" for r in args.origins], ORIGIN_FAILOVER_STATUS_CODES)

        def reads_of(cached: bool) -> dict:
            """A read behaviour's arguments: cached under the policy above, or not at all (only Origin forwarded)."""
            if cached:
                return _read_behaviour(target, policy.id, headers.id)
            return _read_behaviour(target, CACHING_DISABLED, headers.id, origin_request_policy_id=CORS_CUSTOM_ORIGIN)

        stored_reads: dict = {}
        if args.stored is not None:
            stored_origin, stored_group, stored_reads = self._stored(name, args, args.stored, on_edge)
            origins.append(stored_origin)
            origin_groups = [*(origin_groups or []), stored_group]

        def behaviour(route: Route) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
            if args.stored is not None and route.path == args.stored.route_path:
                return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(path_pattern=path_pattern(route.path), **stored_reads)
            return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=path_pattern(route.path), **reads_of(route.edge_cached)
            )

        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"{pulumi.get_project()} {pulumi.get_stack()} API reads",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=args.price_class,
            default_root_object=ROOT_OBJECT,
            aliases=[args.domain.host] if args.domain else None,
            origins=origins,
            origin_groups=origin_groups,
            ordered_cache_behaviors=[behaviour(r) for r in behaviour_order(args.routes)],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(**reads_of(False)),
            custom_error_responses=[
                aws.cloudfront.DistributionCustomErrorResponseArgs(error_code=code, error_caching_min_ttl=0)
                for code in UNCACHED_ERROR_CODES
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
            ),
            viewer_certificate=viewer_certificate(named),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=args.log_bucket_domain, prefix=args.log_prefix, include_cookies=False
            )
            if args.log_bucket_domain is not None
            else None,
            web_acl_id=args.web_acl_arn,
            tags=tags,
            opts=on_edge,
        )
        if args.domain and named:
            alias_records(name, args.domain, named, distribution, on_edge)
        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.domain = distribution.domain_name
        self.url = edge_origin(args.domain, distribution)
        self.register_outputs({"url": self.url, "distribution_id": self.distribution_id})

    @staticmethod
    def _stored(
        name: str, args: ApiEdgeArgs, stored: StoredAnswers, on_edge: pulumi.ResourceOptions
    ) -> tuple[aws.cloudfront.DistributionOriginArgs, aws.cloudfront.DistributionOriginGroupArgs, dict]:
        """The stored answers' origin, its group (the bucket, then the fallback region's API) and
        its behaviour's arguments."""
        oac = signed_bucket_access(
            f"{name}-stored", "Signed (SigV4) reads of the stored answers by the API's read edge only", on_edge
        )
        origin = aws.cloudfront.DistributionOriginArgs(
            origin_id=STORED_ORIGIN_ID,
            domain_name=stored.bucket_domain,
            origin_path=stored.origin_path,
            origin_access_control_id=oac.id,
            connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
            connection_timeout=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
        )
        group = aws.cloudfront.DistributionOriginGroupArgs(
            origin_id="stored-failover",
            failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                status_codes=STORED_FAILOVER_STATUS_CODES
            ),
            members=[
                aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=STORED_ORIGIN_ID),
                aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=f"api-{stored.fallback_region}"),
            ],
        )
        stored_route = next(r for r in args.routes if r.method == "get" and r.path == stored.route_path)
        policy = _cache_policy(
            f"{name}-stored",
            f"{name}-{pulumi.get_project()}-{pulumi.get_stack()}-stored",
            f"Stored answers of GET {stored.route_path} kept {stored.ttl_seconds} s (invalidated on a change), keyed on v and Origin",
            stored.ttl_seconds,
            cache_key_query([stored_route]),
            on_edge,
        )
        h = aws.cloudfront
        headers = security_headers_policy(
            f"{name}-stored",
            "HSTS, nosniff, no framing, a CSP that loads nothing; CORS for the site",
            API_CONTENT_SECURITY_POLICY,
            on_edge,
            cors=h.ResponseHeadersPolicyCorsConfigArgs(
                access_control_allow_credentials=False,
                access_control_allow_headers=h.ResponseHeadersPolicyCorsConfigAccessControlAllowHeadersArgs(items=["*"]),
                access_control_allow_methods=h.ResponseHeadersPolicyCorsConfigAccessControlAllowMethodsArgs(
                    items=["GET", "HEAD"]
                ),
                access_control_allow_origins=h.ResponseHeadersPolicyCorsConfigAccessControlAllowOriginsArgs(
                    items=[stored.allowed_origin]
                ),
                access_control_max_age_sec=600,
                # The fallback region's API answers CORS itself: its headers stay.
                origin_override=False,
            ),
        )
        return origin, group, _read_behaviour("stored-failover", policy.id, headers.id)


def _read_behaviour(
    target: str,
    cache_policy_id: pulumi.Input[str],
    headers_policy_id: pulumi.Input[str],
    origin_request_policy_id: str | None = None,
) -> dict:
    """A read behaviour's arguments: HTTPS only, GET/HEAD/OPTIONS (what origin groups fail over
    for), compressed, under the given cache and response headers policies."""
    return {
        "target_origin_id": target,
        "viewer_protocol_policy": "https-only",
        "allowed_methods": READ_METHODS,
        "cached_methods": ["GET", "HEAD"],
        "cache_policy_id": cache_policy_id,
        "origin_request_policy_id": origin_request_policy_id,
        "response_headers_policy_id": headers_policy_id,
        "compress": True,
    }


def _cache_policy(
    resource_name: str, policy_name: str, comment: str, ttl_seconds: int, query: list[str], opts: pulumi.ResourceOptions
) -> aws.cloudfront.CachePolicy:
    """Every answer kept exactly `ttl_seconds` (minimum = default = maximum, so the origin's
    `no-store`, meant for browsers, does not turn the edge off), keyed on `query` and the Origin
    header (the CORS answer differs by it); no cookie, no Authorization, no API key."""
    c = aws.cloudfront
    return c.CachePolicy(
        resource_name,
        name=policy_name,
        comment=comment,
        min_ttl=ttl_seconds,
        default_ttl=ttl_seconds,
        max_ttl=ttl_seconds,
        parameters_in_cache_key_and_forwarded_to_origin=c.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
            cookies_config=c.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(cookie_behavior="none"),
            headers_config=c.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                header_behavior="whitelist",
                headers=c.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(items=["Origin"]),
            ),
            query_strings_config=c.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                query_string_behavior="whitelist",
                query_strings=c.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigQueryStringsArgs(
                    items=query
                ),
            ),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        ),
        opts=opts,
    )
