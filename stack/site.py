"""The blog's front end: one CloudFront distribution over a bucket per region (site/), and the
`config.json` that tells the browser every region's API."""

from __future__ import annotations

from pathlib import Path

from components import ApiEdge, ServerlessApi, SiteDomain, StaticSite, StaticSiteArgs
from components._blocks.private_bucket import PrivateBucket
from stack.config import StackConfig
from stack.edge import SITE_LOG_PREFIX, SiteReader
from stack.paid_content import PremiumMedia
from stack.providers import Providers

SITE_DIR = Path(__file__).resolve().parents[1] / "site"
# How long the browser waits for one region's API before it tries the next (site/client.js).
FAILOVER_TIMEOUT_MS = 1500


def api_origin_pattern(cfg: StackConfig) -> str:
    """Where the page may call (its CSP's connect-src): the API's name, and its read edge."""
    api = f"https://{cfg.api_host}" if cfg.api_host else f"https://*.execute-api.{cfg.home_region}.amazonaws.com"
    if not cfg.edge_reads:
        return api
    return f"{api} https://{cfg.read_host}" if cfg.read_host else f"{api} https://*.cloudfront.net"


def static_site(
    cfg: StackConfig,
    providers: Providers,
    view_logs: PrivateBucket | None,
    reader: SiteReader,
    premium: PremiumMedia | None = None,
) -> StaticSite:
    """With post pages, the site's logs go to the view-count bucket: its page requests are the
    views. With stored answers, the API edge reads their prefix of the buckets too. With paid
    content, /premium/* is served from the premium buckets to signed cookies only."""
    counted = cfg.post_pages and view_logs is not None
    return StaticSite(
        "site",
        StaticSiteArgs(
            regions=cfg.regions,
            providers=providers.regional,
            global_provider=providers.global_services,
            site_dir=SITE_DIR,
            # Known before the API exists, so the site and the API do not wait for each other.
            api_origin_pattern=api_origin_pattern(cfg),
            domain=SiteDomain(host=cfg.site_host, zone_name=cfg.domain) if cfg.domain else None,
            price_class=cfg.site_price_class,
            access_logs=cfg.site_access_logs and not counted,
            log_bucket_domain=view_logs.bucket.bucket_domain_name if counted else None,
            log_prefix=SITE_LOG_PREFIX,
            web_acl_arn=cfg.site_web_acl_arn,
            # The page carries its config: one request fewer before it can call the API.
            config_page="index.html",
            prefix_readers=reader.prefix_readers(),
            premium=premium.site_path() if premium is not None else None,
        ),
    )


def publish_config(
    site: StaticSite, cfg: StackConfig, apis: dict[str, ServerlessApi], edge: ApiEdge | None, premium: PremiumMedia | None = None
) -> None:
    """Every region's own URL: the browser fails over between them itself (site/client.js), in
    seconds, instead of waiting for DNS; apiBaseUrl is the name Route 53 routes. With the edge on,
    `edge` is where the browser reads first (cached, failing over at CloudFront)."""
    values = {
        "apiBaseUrl": apis[cfg.home_region].public_url,
        "regions": {r: api.invoke_url for r, api in apis.items()},
        "failoverTimeoutMs": FAILOVER_TIMEOUT_MS,
    }
    if cfg.paid_content.enabled:
        # The session is asked of the API's name, whose host is in the cookies' domain (a
        # region's execute-api host is not); sign-in goes to the pool.
        values["premium"] = {
            "authUrl": f"https://cognito-idp.{cfg.home_region}.amazonaws.com/",
            "userPoolClientId": premium.content.client_id,
            "sessionUrls": [apis[cfg.home_region].public_url],
            "testPurchases": cfg.paid_content.test_purchases,
        }
    if cfg.post_pages:
        values["postPages"] = True  # a post's link is its own page, /posts/<id>
    if edge is not None:
        values["edge"] = edge.url
        values["edgeCacheSeconds"] = cfg.edge_cache_seconds
    site.publish_config(values)
