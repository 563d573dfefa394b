"""The cost model: every resource type priced, the standing charge per line, the goals, and the
cost moving as the config says it should."""

import dataclasses
import json

import pytest

from ops import cost
from ops.cost import STANDING, USAGE_ONLY, UnpricedType, idle_lines, idle_monthly, price, traffic_monthly, unit_prices
from tests.helpers import cached_stack
from tests.stacks.invariants import config_of
from verify.variants import VARIANTS

# The goals of the issue, for the shipped stacks at zero traffic (list prices, no free tier).
GOALS = {"dev": 1.00, "dr": 15.00}


def regions_of(run):
    return json.loads(run.config["serverless-dr:regions"])


# The shipped stack and every variant the invariants run (tests/stacks/test_variants.py, shared
# runs): between them every optional resource type the program can create.
PRICED = {"shipped": ("dr", {}), **VARIANTS}


@pytest.mark.parametrize("variant", PRICED)
def test_every_resource_type_the_program_creates_is_priced(variant):
    stack, overrides = PRICED[variant]
    run = cached_stack(stack, **overrides)
    types = {r.type for r in run.resources if r.is_aws}
    assert types <= set(STANDING) | set(USAGE_ONLY), sorted(types - set(STANDING) - set(USAGE_ONLY))
    assert idle_lines(run)  # and the model runs over all of them


def test_a_type_without_a_price_is_an_error_not_a_free_line():
    run = cached_stack("dev")
    fake = type(run.resources[0])(
        urn="urn:x", type="aws:ec2/instance:Instance", name="surprise", region="us-east-1", parent=None, inputs={}, custom=True
    )
    unpriced = type(run)(**{**run.__dict__, "resources": [*run.resources, fake]})
    with pytest.raises(UnpricedType, match="aws:ec2/instance:Instance"):
        idle_lines(unpriced)


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_the_shipped_stacks_meet_their_idle_cost_goal_line_by_line(stack):
    run = cached_stack(stack)
    lines = idle_lines(run)
    assert idle_monthly(run) == round(sum(line.monthly_usd for line in lines), 2) <= GOALS[stack]
    assert all(line.count >= 1 and line.monthly_usd > 0 and line.region for line in lines)


def test_writes_without_an_operator_cost_under_a_dollar_a_month_at_zero_traffic():
    run = cached_stack("dr")
    ticks = [line for line in idle_lines(run) if line.detail.startswith("write-failover ticks")]
    assert {line.region for line in ticks} == set(regions_of(run))
    assert 0 < sum(line.monthly_usd for line in ticks) < 1.0
    # dev has one region: nothing to fail over to, no lease, no ticks.
    assert not [line for line in idle_lines(cached_stack("dev")) if line.detail.startswith("write-failover")]


def test_dr_keeps_every_dr_mechanism_inside_its_goal():
    run = cached_stack("dr")
    types = {line.type for line in idle_lines(run)}
    # Health checks and alarms are on and priced; nothing stands idle for page views or caching.
    assert {"aws:route53/healthCheck:HealthCheck", "aws:cloudwatch/metricAlarm:MetricAlarm"} <= types
    assert not {"aws:kinesis/stream:Stream", "aws:cloudwatch/dashboard:Dashboard"} & types
    checks = [line for line in idle_lines(run) if line.type == "aws:route53/healthCheck:HealthCheck"]
    assert sum(line.monthly_usd for line in checks) == pytest.approx(len(regions_of(run)) * (0.5 + 1.0 + 1.0))


def variant(name: str):
    """A stack of verify/variants.py (the stack tests run each anyway: one run serves both)."""
    base, overrides = VARIANTS[name]
    return cached_stack(base, **overrides)


def charged(run, detail: str) -> float:
    return sum(line.monthly_usd for line in idle_lines(run) if line.detail == detail)


def test_each_standing_choice_is_its_own_line_at_its_price_in_every_region():
    """The variant that makes every standing choice: each is priced as lines of its own, in every
    region it stands in; the shipped dr has none of them."""
    base, chosen = cached_stack("dr"), variant("real-domain-hardened-functions-standing-charges-no-backups")
    hours, regions = 730, len(regions_of(chosen))
    assert charged(chosen, "on-demand stream") == pytest.approx(0.04 * hours * regions)
    assert charged(chosen, "stage cache 0.5 GB") == pytest.approx(0.020 * hours * regions)
    checks = len(chosen.of_type("aws:route53/healthCheck:HealthCheck"))
    assert charged(chosen, "health check option: latency graphs") == pytest.approx(
        checks * price("health_check_option_aws_month")
    )
    assert charged(chosen, "dashboard") == pytest.approx(price("dashboard_month"))
    for detail in ("on-demand stream", "stage cache 0.5 GB", "health check option: latency graphs", "dashboard"):
        assert charged(base, detail) == 0, detail
    provisioned = variant("single-region-with-domain-and-environment-key")
    assert charged(provisioned, "provisioned stream, 1 shard(s)") == pytest.approx(0.015 * hours * len(regions_of(provisioned)))


def test_without_alarms_no_alarm_is_priced_and_with_them_each_is():
    base, silent = cached_stack("dr"), variant("real-domain-hardened-functions-standing-charges-no-backups")
    assert silent.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []
    assert not [line for line in idle_lines(silent) if line.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    alarms = base.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    priced = sum(line.monthly_usd for line in idle_lines(base) if line.type == "aws:cloudwatch/metricAlarm:MetricAlarm")
    metrics = sum(sum(1 for q in a.inputs.get("metricQueries") or [] if q.get("metric")) or 1 for a in alarms)
    assert priced == pytest.approx(metrics * price("alarm_metric_month"), abs=0.01)


def with_config(run, **values: str):
    """The same run priced as if its config said `values` (the traffic model reads the config)."""
    return dataclasses.replace(run, config={**run.config, **{f"{run.project}:{k}": v for k, v in values.items()}})


def test_traffic_costs_grow_with_use_and_with_replicas():
    dev, dr = cached_stack("dev"), cached_stack("dr")
    month = traffic_monthly(dr, page_views_per_day=1_000_000, post_reads_per_day=10_000)
    assert month["total_usd"] == pytest.approx(month["idle_usd"] + month["page_views_usd"] + month["post_reads_usd"], abs=0.02)
    # Through the regions every view costs the same; at the edge more views share cached answers.
    regional = with_config(dr, edgeReads="false", postPages="false")
    once = traffic_monthly(regional, page_views_per_day=1_000_000, post_reads_per_day=10_000)
    double = traffic_monthly(regional, page_views_per_day=2_000_000, post_reads_per_day=10_000)
    assert double["page_views_usd"] == pytest.approx(2 * once["page_views_usd"], rel=0.01)
    for edge in (dr, with_config(dr, postPages="false")):
        single, twice = (traffic_monthly(edge, page_views_per_day=n, post_reads_per_day=10_000) for n in (1e6, 2e6))
        assert single["page_views_usd"] < twice["page_views_usd"] < 2 * single["page_views_usd"]
    # Counted through the API, each extra replica adds one replicated write per view; from the
    # edge's logs, one per (batch of log files, post), far fewer.
    one_region = unit_prices(with_config(dev, edgeReads="false", postPages="false"))["page_views_per_million"]["usd"]
    extra = unit_prices(regional)["page_views_per_million"]["usd"] - one_region
    assert extra == pytest.approx(price("dynamodb_replicated_write_million"), abs=0.02)
    at_edge = cost.per_million(dr)["page_views"] - cost.per_million(dev)["page_views"]  # unrounded: cents apart
    assert 0 < at_edge < extra / 4


def test_a_post_page_view_is_one_edge_request_its_bytes_and_its_share_of_counting():
    """With post pages a view is the page's request and bytes (the page is its own shell: no
    shell share), a fetch from a bucket now and then, and the counting; without them, the edge
    read of the post plus the shell's share, so post pages are cheaper by at least that share."""
    dr = cached_stack("dr")
    pages, spa = unit_prices(dr), unit_prices(with_config(dr, postPages="false"))
    request = price("cloudfront_https_10k") * 100  # per million
    page_bytes = cost.post_page_bytes() / 1e9 * 1e6 * price("cloudfront_transfer_gb")
    assert request + page_bytes < pages["page_views_per_million"]["usd"] < request + page_bytes + 0.25
    shell = request / cost.ASSUMPTIONS["page_views_per_visit"]
    assert pages["page_views_per_million"]["usd"] < spa["page_views_per_million"]["usd"] - shell


def test_the_post_page_template_is_no_bigger_than_the_model_assumes():
    import gzip

    from verify.harness import configure

    configure()
    from pages.app import render

    empty = render(
        {"id": "a" * 32, "title": "", "body": "", "created_at": "2026-12-05T10:00:00.000Z", "version": 1}, "ap-southeast-2"
    )
    assert len(gzip.compress(empty.encode())) <= cost.ASSUMPTIONS["post_page_template_gzip_bytes"]


def test_counting_from_logs_is_cheaper_per_view_the_more_files_a_batch_gathers():
    dr = cached_stack("dr")
    per_batch, batches = cost.log_batch(dr)
    files = cost.ASSUMPTIONS["edge_log_files_per_hour"] * cost.hours_per_month()
    assert 1 < per_batch <= 10 and per_batch * batches == pytest.approx(files)
    views = 30e6
    batched = cost._counted_from_edge_logs(dr, views)
    unbatched = cost._counted_from_edge_logs(with_mapping_window(dr, 0), views)
    assert batched < unbatched / 2


def with_mapping_window(run, seconds: int):
    """`run` with the edge-log counter's batching window set to `seconds`."""

    def windowed(resource):
        if resource.type != "aws:lambda/eventSourceMapping:EventSourceMapping" or not resource.name.startswith("edge-views-"):
            return resource
        return dataclasses.replace(resource, inputs={**resource.inputs, "maximumBatchingWindowInSeconds": seconds})

    return dataclasses.replace(run, resources=[windowed(r) for r in run.resources])


def test_every_price_names_its_source():
    table = cost.price_table()
    assert table["version"] and table["basis"]
    for name, entry in table["prices"].items():
        assert entry["usd"] >= 0 and entry["unit"] and entry["source"].startswith("https://aws.amazon.com/"), name


def test_backup_storage_is_priced_from_the_planned_rule():
    dr = cached_stack("dr")
    [rule] = dr.of_type("aws:backup/plan:Plan")[0].inputs["rules"]
    kept, copies = int(rule["lifecycle"]["deleteAfter"]), len(rule["copyActions"])  # daily schedule
    table = unit_prices(dr)["backup_table_gb_month"]["usd"]
    assert table == round(
        kept * (1 + copies) * price("backup_warm_gb_month") + 30 * copies * price("inter_region_transfer_gb"), 2
    )
    weekly = variant("single-region-with-domain-and-environment-key")  # one region, weekly, kept 28 days
    schedule, kept_days = (
        VARIANTS["single-region-with-domain-and-environment-key"][1][k] for k in ("backupSchedule", "backupRetentionDays")
    )
    assert "SUN" in schedule and len(regions_of(weekly)) == 1
    assert unit_prices(weekly)["backup_table_gb_month"]["usd"] == round(kept_days // 7 * price("backup_warm_gb_month"), 2)
    assert unit_prices(weekly)["backup_media_gb_month"]["usd"] == price("backup_s3_gb_month")
    assert "backup_table_gb_month" not in unit_prices(variant("real-domain-hardened-functions-standing-charges-no-backups"))


def test_a_post_read_is_its_stored_answer_at_the_edge_and_an_s3_get_per_expired_copy():
    """With post pages and the read edge, GET /posts/{id} is the edge's request, its bytes and,
    per expired copy (kept storedAnswerSeconds), one S3 GET: no regional API call. Keeping it
    shorter costs more; without the edge every read is a region's."""
    dr = cached_stack("dr")
    ttl = cost.stored_answer_seconds(dr)
    assert ttl == config_of(dr).stored_answer_seconds
    reads = cost.REFERENCE_POST_READS_PER_DAY * 30
    fetches = cost.edge_origin_fetches(dr, reads, ttl)
    expected = (
        reads * price("cloudfront_https_10k") / 1e4
        + reads * cost.ASSUMPTIONS["post_response_gzip_bytes"] / 1e9 * price("cloudfront_transfer_gb")
        + fetches * price("s3_get_thousand") / 1e3
    )
    assert cost.per_million(dr)["post_reads"] == pytest.approx(expected / reads * 1e6)
    shorter = with_config(dr, storedAnswerSeconds=str(max(60, ttl // 10)))
    assert cost.per_million(shorter)["post_reads"] > cost.per_million(dr)["post_reads"]
    assert cost.per_million(with_config(dr, edgeReads="false"))["post_reads"] > 3 * cost.per_million(dr)["post_reads"]


def test_stored_answers_are_refreshed_by_one_region_whatever_the_stack_spans():
    """Only the region the edge reads rewrites answers when counts change: dev and dr pay the same
    for it, and it is what page views cost beyond counting."""
    dev, dr = cached_stack("dev"), cached_stack("dr")
    views = cost.REFERENCE_PAGE_VIEWS_PER_DAY * 30
    assert cost._stored_answer_refresh(dev, views) == pytest.approx(cost._stored_answer_refresh(dr, views))
    without = with_config(dr, edgeReads="false")
    added = cost.page_views_cost(dr, views) - cost.page_views_cost(without, views)
    assert added == pytest.approx(cost._stored_answer_refresh(dr, views)) and added > 0


def test_a_premium_session_is_priced_only_where_paid_content_is_on_and_at_least_its_api_request():
    from ops.cost import price, unit_prices
    from tests.helpers import cached_stack
    from verify.variants import VARIANTS

    assert "premium_sessions_per_million" not in unit_prices(cached_stack("dr"))
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]
    session = unit_prices(cached_stack(base, **overrides))["premium_sessions_per_million"]["usd"]
    floor = price("apigw_rest_requests_million") + price("lambda_requests_million") + price("dynamodb_read_million")
    assert floor <= session <= floor + 3  # the function's time, logs, traces, transfer: a few dollars at most
