"""Builds the whole stack from a validated StackConfig, one concern per step; each step is a
function of the module that owns it. A new system (containers, a relational store, paid
content) is one more step here."""

from __future__ import annotations

import pulumi_random as random

from stack import (
    analytics,
    api,
    containers,
    data,
    dns,
    edge,
    exports,
    foundation,
    paid_content,
    post_pages,
    recovery,
    relational,
    site,
    write_failover,
)
from stack.config import StackConfig
from stack.dashboard import operations_dashboard
from stack.providers import build_providers
from stack.regional_paths import regional_paths
from stack.table_access import TableAccess


def build(cfg: StackConfig) -> None:
    providers = build_providers(cfg)

    # Data and the front end, across regions.
    table = data.global_table(cfg, providers)
    # The home region's bucket of the standard logs page views are counted from.
    view_logs = edge.view_logs(cfg, providers)
    edge_reader = edge.SiteReader(cfg)  # the API edge, reading the site's stored answers
    premium = paid_content.premium_media(cfg, providers)  # its buckets admit the site, built next
    web = site.static_site(cfg, providers, view_logs, edge_reader, premium)
    if premium is not None:
        premium.site_built(web)
    media = data.media_buckets(cfg, providers, web.origin)  # the one browser origin that may upload

    # One admin key value for every region: a client must not care which region DNS picked.
    admin_key = random.RandomPassword("admin-api-key", length=40, special=False)
    # Seals write ids and cursors; the same in every region, so a client failing over can present them.
    signing_key = random.RandomPassword("api-signing-key", length=48, special=False)
    voters = write_failover.lease_voters(cfg, providers.voters, table.key_arns)
    drain_parameter_name = f"/{cfg.project}/{cfg.stack}/drain"

    # Per region: the foundation, the event paths, the API.
    # Welcome mail needs a sender SES can verify: the configured address, or noreply@ the domain.
    sender = cfg.sender_email or (f"noreply@{cfg.domain}" if cfg.domain else None)
    regions = foundation.foundations(cfg, providers, mail=sender is not None, table_key_arns=table.key_arns)
    # The relational store, before the writers that use it (the API and the write-retry consumer).
    store = relational.relational_store(cfg, providers, regions)
    access = TableAccess(table, cfg, voters, store, relational.DATABASE_NAME)
    analytics_buckets = analytics.data_buckets(cfg, providers.regional) if cfg.analytics else None
    signing_keys = {name: api.signing_key_parameter(cfg, region, signing_key.result) for name, region in regions.items()}
    paths = {
        name: regional_paths(
            cfg,
            region,
            access,
            media,
            signing_keys[name],
            drain_parameter_name,
            sender=sender,
            analytics_buckets=analytics_buckets,
        )
        for name, region in regions.items()
    }
    services = containers.container_services(
        cfg,
        regions,
        paths,
        access=access,
        media=media,
        signing_keys=signing_keys,
        drain_parameter_name=drain_parameter_name,
        site_origin=web.origin,
    )
    apis = api.regional_apis(
        cfg,
        regions,
        paths,
        table=table,
        access=access,
        media=media,
        site_origin=web.origin,
        admin_key=admin_key.result,
        signing_keys=signing_keys,
        drain_parameter_name=drain_parameter_name,
        containers=services,
        premium=premium,
    )

    # Across regions again: the API's name, backups, what the browser and operators read.
    api_dns = dns.api_dns(cfg, providers, regions, apis)
    backups = recovery.backups(cfg, providers, table, media, regions, store)
    analytics_paths = {name: p.analytics for name, p in paths.items() if p.analytics is not None}
    if analytics_paths:
        analytics.export(analytics_paths)
    home = cfg.home_region
    api_edge = edge.api_edge(cfg, providers, apis, view_logs, web, edge_reader)
    edge.edge_views(cfg, regions[home], access, view_logs, paths[home].analytics)
    post_pages.post_pages(cfg, regions, table, access, web, api_edge)
    site.publish_config(web, cfg, apis, api_edge, premium)
    operations_dashboard(cfg, providers, apis, paths, table.name, api_dns.health_check_ids if api_dns else {})
    exports.export_outputs(
        cfg,
        table=table,
        site=web,
        media=media,
        voters=voters,
        regions=regions,
        paths=paths,
        apis=apis,
        dns=api_dns,
        backups=backups,
        admin_key=admin_key.result,
        api_edge=api_edge,
        containers=services,
        relational=store,
        premium=premium,
    )
