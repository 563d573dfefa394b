"""Every event-driven path exists in every region of dr, wired to that region's own resources."""

import json

import pytest

from tests.helpers import cached_stack
from tests.stacks.invariants import config_of
from verify.variants import VARIANTS

REGIONS = ("us-east-1", "us-west-2")
PATHS = ("write-retry", "views", "welcome", "bounces", "thumbnails")


def mapping_of(run, pipeline: str):
    urn = next(r.urn for r in run.resources if r.type == "serverless-dr:index:EventPipeline" and r.name == pipeline)
    [mapping] = [r for r in run.descendants_of(urn) if r.type == "aws:lambda/eventSourceMapping:EventSourceMapping"]
    return mapping


@pytest.mark.parametrize("region", REGIONS)
def test_every_path_runs_in_every_region(region):
    dr = cached_stack("dr")
    pipelines = {r.name: r for r in dr.resources if r.type == "serverless-dr:index:EventPipeline"}
    for path in PATHS:
        assert f"{path}-{region}" in pipelines
        assert mapping_of(dr, f"{path}-{region}").region == region


@pytest.mark.parametrize("region", REGIONS)
def test_welcome_reads_the_local_replica_stream_filtered_to_this_regions_inserts(region):
    dr = cached_stack("dr")
    mapping = mapping_of(dr, f"welcome-{region}")
    assert mapping.inputs["eventSourceArn"] == dr.outputs["tableStreamArns"][region]
    [pattern] = [json.loads(f["pattern"]) for f in mapping.inputs["filterCriteria"]["filters"]]
    # DynamoDB mappings filter on the `dynamodb` key only (Lambda guide): INSERT-only is the handler's.
    assert set(pattern) == {"dynamodb"}
    assert pattern["dynamodb"]["NewImage"] == {
        "pk": {"S": [{"prefix": "SUB#"}]},
        "origin_region": {"S": [region]},
        "welcome": [{"exists": False}],
    }


@pytest.mark.parametrize("region", REGIONS)
def test_mail_sender_requires_tls_and_publishes_dkim_records(region):
    dr = cached_stack("dr")
    [config] = [r for r in dr.resources if r.type == "aws:sesv2/configurationSet:ConfigurationSet" and r.region == region]
    assert config.inputs["deliveryOptions"] == {"tlsPolicy": "REQUIRE"}
    [identity] = [r for r in dr.resources if r.type == "aws:sesv2/emailIdentity:EmailIdentity" and r.region == region]
    assert identity.inputs["emailIdentity"] == "example.com"
    dkim = [r for r in dr.resources if r.type == "aws:route53/record:Record" and r.name.startswith(f"mail-{region}-dkim-")]
    assert len(dkim) == 3 and len({r.inputs["name"] for r in dkim}) == 3
    assert all(r.inputs["name"].endswith("._domainkey.example.com") and r.inputs["type"] == "CNAME" for r in dkim)
    [destination] = [
        r
        for r in dr.resources
        if r.type == "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination" and r.region == region
    ]
    assert destination.inputs["eventDestination"]["matchingEventTypes"] == ["BOUNCE", "COMPLAINT"]
    topic_arn = destination.inputs["eventDestination"]["snsDestination"]["topicArn"]
    assert topic_arn.startswith(f"arn:aws:sns:{region}:") and "bounces-" in topic_arn


def test_bounce_topic_admits_ses_with_the_regions_one_messaging_key():
    dr = cached_stack("dr")
    [topic] = [r for r in dr.resources if r.type == "aws:sns/topic:Topic" and r.name == "bounces-us-west-2-topic"]
    [alerts] = [r for r in dr.resources if r.type == "aws:sns/topic:Topic" and r.name == "alerts-us-west-2-topic"]
    # One key per region for both service-fed topics: KMS bills per key (the backup vault has its own).
    [key] = [r for r in dr.resources if r.type == "aws:kms/key:Key" and r.region == "us-west-2" and "backups" not in r.name]
    assert topic.inputs["kmsMasterKeyId"] == alerts.inputs["kmsMasterKeyId"] == key.state["arn"]
    by_sid = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    ses = by_sid["PublisherSes"]
    assert (ses["Principal"], ses["Action"]) == ({"Service": "ses.amazonaws.com"}, ["kms:Decrypt", "kms:GenerateDataKey*"])
    # SES's KMS calls are not documented to carry aws:SourceAccount: a condition on it would drop
    # every bounce. CloudWatch's are, so its statement keeps the condition.
    assert "Condition" not in ses
    assert by_sid["PublisherCloudwatch"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    [policy] = [
        r for r in dr.resources if r.type == "aws:sns/topicPolicy:TopicPolicy" and r.name == "bounces-us-west-2-topic-policy"
    ]
    sids = [s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]]
    assert sids == ["AccountPublishes", "ServicesPublish", "DenyInsecureTransport"]


def test_thumbnails_listen_to_uploads_of_the_local_media_bucket():
    dr = cached_stack("dr")
    for region in REGIONS:
        [notification] = [
            r
            for r in dr.resources
            if r.type == "aws:s3/bucketNotification:BucketNotification"
            and r.region == region
            and r.name.startswith("thumbnails-")
        ]
        assert notification.inputs["bucket"] == dr.outputs["mediaBuckets"][region]
        assert notification.inputs["queues"][0]["filterPrefix"] == "uploads/"


def test_the_edge_log_counter_listens_to_new_log_files_in_the_home_region_only():
    """Views are counted from one distribution's logs: the site's when posts are pages of their
    own (its page requests are the views), else the API edge's; both log to the home bucket."""
    dr = cached_stack("dr")
    home = dr.outputs["homeRegion"]
    notifications = [r for r in dr.of_type("aws:s3/bucketNotification:BucketNotification") if r.name.startswith("edge-views-")]
    [notification] = notifications
    [logs] = [b for b in dr.of_type("aws:s3/bucket:Bucket") if b.name == "api-edge-logs"]
    assert (notification.region, logs.region) == (home, home)
    distributions = {d.name: d for d in dr.of_type("aws:cloudfront/distribution:Distribution")}
    counted = distributions["site-cdn" if config_of(dr).post_pages else "api-edge-cdn"]
    prefixes = [d.inputs["loggingConfig"]["prefix"] for d in distributions.values() if "loggingConfig" in d.inputs]
    assert len(prefixes) == len(set(prefixes)), "two distributions log under one prefix: their lines would be counted together"
    assert counted.inputs["loggingConfig"]["bucket"] == logs.state["bucketDomainName"]
    assert notification.inputs["queues"][0]["filterPrefix"] == counted.inputs["loggingConfig"]["prefix"]
    # A few files an invocation (the count's writes are per batch), within what SQS allows.
    [mapping] = [m for m in dr.of_type("aws:lambda/eventSourceMapping:EventSourceMapping") if m.name.startswith("edge-views-")]
    assert 1 < mapping.inputs["maximumBatchingWindowInSeconds"] <= 300


def test_media_buckets_replicate_both_ways_with_rtc():
    dr = cached_stack("dr")
    configs = {
        r.region: r
        for r in dr.resources
        if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig" and r.name.startswith("media-")
    }
    assert set(configs) == set(REGIONS)
    for region, config in configs.items():
        other = next(r for r in REGIONS if r != region)
        [rule] = config.inputs["rules"]
        assert rule["destination"]["bucket"] == f"arn:aws:s3:::{dr.outputs['mediaBuckets'][other]}"
        assert rule["destination"]["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
        assert rule["destination"]["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
        assert rule["deleteMarkerReplication"] == {"status": "Enabled"}


def test_dev_has_no_replication_and_no_mail_without_a_sender():
    dev = cached_stack("dev")
    assert not dev.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert not [
        r for r in dev.resources if r.type == "serverless-dr:index:EventPipeline" and r.name.startswith(("welcome", "bounces"))
    ]


def test_a_sender_address_without_domain_becomes_an_email_identity():
    base, overrides = VARIANTS["no-analytics-mail-without-domain-site-logs-and-waf"]
    run = cached_stack(base, **overrides)
    [identity] = run.of_type("aws:sesv2/emailIdentity:EmailIdentity")
    assert identity.inputs["emailIdentity"] == overrides["senderEmail"]
    assert not [r for r in run.of_type("aws:route53/record:Record") if "dkim" in r.name]
