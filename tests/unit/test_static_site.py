"""StaticSite: protected buckets per region, every site file uploaded, one distribution with failover."""

import json
import re
from pathlib import Path

import pytest

from components.static_site import FAILOVER_STATUS_CODES, content_type, embed_config, site_files
from tests.helpers import cached_stack
from tests.stacks.invariants import config_of
from verify.variants import VARIANTS

SITE = Path(__file__).resolve().parents[2] / "site"
REGIONS = ("us-east-1", "us-west-2")


def site_children(run):
    urn = next(r.urn for r in run.resources if r.type == "serverless-dr:index:StaticSite")
    return run.descendants_of(urn)


def of(children, type_):
    return [r for r in children if r.type == type_]


@pytest.fixture(scope="module")
def dr():
    return cached_stack("dr")


@pytest.mark.parametrize("region", REGIONS)
def test_bucket_in_every_region_with_every_protection(dr, region):
    children = site_children(dr)
    name = f"site-{region}"
    [bucket] = [r for r in of(children, "aws:s3/bucket:Bucket") if r.name == name]
    assert bucket.region == region
    [block] = [
        r for r in of(children, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") if r.name == f"{name}-public-access"
    ]
    assert all(
        block.inputs[f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    [ownership] = [
        r for r in of(children, "aws:s3/bucketOwnershipControls:BucketOwnershipControls") if r.name == f"{name}-ownership"
    ]
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    [encryption] = [r for r in children if r.name == f"{name}-encryption"]
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    [versioning] = [r for r in children if r.name == f"{name}-versioning"]
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    [policy] = [r for r in children if r.name == f"{name}-policy"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    read, *others, deny = statements
    [distribution] = of(children, "aws:cloudfront/distribution:Distribution")
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert read["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.state["arn"]}}
    # Any other reader (the API edge, its stored answers) reads one prefix, never the whole bucket.
    for other in others:
        assert other["Action"] == "s3:GetObject" and other["Resource"].endswith("/api/*"), other
        assert other["Condition"]["StringEquals"]["AWS:SourceArn"] != distribution.state["arn"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("region", REGIONS)
def test_every_site_file_is_an_object_with_its_content_type_in_every_region(dr, region):
    objects = {
        r.inputs["key"]: r.inputs for r in of(site_children(dr), "aws:s3/bucketObjectv2:BucketObjectv2") if r.region == region
    }
    expected = {key: content_type(path) for key, path in site_files(SITE)}
    assert {"index.html", "app.js", "client.js", "markup.js", "styles.css", "404.html"} <= set(expected)
    assert expected["client.js"].startswith("text/javascript")  # ES modules load only with a JavaScript type
    for key, kind in expected.items():
        assert objects[key]["contentType"] == kind, key
        if key != "index.html":  # written with the config in it (below)
            assert len(objects[key]["sourceHash"]) == 64
    assert objects["index.html"]["cacheControl"].startswith("no-cache")
    assert objects["styles.css"]["cacheControl"] == "public, max-age=3600"
    assert objects["health.html"]["contentType"].startswith("text/html")
    config = json.loads(objects["config.json"]["content"])
    assert config["apiBaseUrl"] == dr.outputs["apiPublicUrl"]
    assert set(objects) == {*expected, "health.html", "config.json"}


def test_the_page_carries_the_same_config_as_config_json_and_is_otherwise_the_source_page():
    """index.html is written with the config in it: the page calls the API without first asking
    for config.json (one CloudFront request a visit fewer)."""
    dr = cached_stack("dr")
    source = (SITE / "index.html").read_text()
    for region in dr.outputs["regions"]:
        objects = {r.inputs["key"]: r.inputs for r in dr.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.region == region}
        page = objects["index.html"]["content"]
        embedded = re.search(r'<script type="application/json" id="site-config">(.*?)</script>\n', page, re.S)
        assert embedded and json.loads(embedded.group(1)) == json.loads(objects["config.json"]["content"])
        assert page.replace(embedded.group(0), "") == source
        assert "source" not in objects["index.html"] and objects["index.html"]["cacheControl"].startswith("no-cache")


def test_a_value_cannot_close_the_config_element():
    page = embed_config("<head></head><body>", json.dumps({"apiBaseUrl": "</script><script>alert(1)</script>"}))
    assert page.count("</script>") == 1
    element = re.search(r"id=\"site-config\">(.*)</script>", page).group(1)
    assert json.loads(element)["apiBaseUrl"] == "</script><script>alert(1)</script>"
    with pytest.raises(ValueError, match="no </head>"):
        embed_config("<body></body>", "{}")


def test_changed_file_changes_its_object(tmp_path):
    from components.static_site import site_files as files

    (tmp_path / "index.html").write_text("<p>one</p>")
    import hashlib

    first = hashlib.sha256(files(tmp_path)[0][1].read_bytes()).hexdigest()
    (tmp_path / "index.html").write_text("<p>two</p>")
    assert hashlib.sha256(files(tmp_path)[0][1].read_bytes()).hexdigest() != first


def test_distribution_fails_over_between_both_regions_quickly(dr):
    [distribution] = of(site_children(dr), "aws:cloudfront/distribution:Distribution")
    inputs = distribution.inputs
    assert distribution.region == "us-east-1"
    origins = {o["originId"]: o for o in inputs["origins"]}
    assert set(origins) == {"s3-us-east-1", "s3-us-west-2"}
    for region, origin in (("us-east-1", origins["s3-us-east-1"]), ("us-west-2", origins["s3-us-west-2"])):
        assert origin["domainName"].endswith(f".s3.{region}.amazonaws.com")
        assert (origin["connectionAttempts"], origin["connectionTimeout"]) == (1, 2)
        assert origin["originAccessControlId"]
    [group] = inputs["originGroups"]
    assert [m["originId"] for m in group["members"]] == ["s3-us-east-1", "s3-us-west-2"]
    assert group["failoverCriteria"]["statusCodes"] == FAILOVER_STATUS_CODES == [403, 404, 500, 502, 503, 504]
    behavior = inputs["defaultCacheBehavior"]
    assert behavior["targetOriginId"] == group["originId"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behavior["cachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert (inputs["httpVersion"], inputs["isIpv6Enabled"], inputs["defaultRootObject"]) == ("http2and3", True, "index.html")
    assert {e["errorCode"]: e["responsePagePath"] for e in inputs["customErrorResponses"]} == {403: "/404.html", 404: "/404.html"}


def test_custom_domain_uses_a_us_east_1_certificate_with_modern_tls(dr):
    children = site_children(dr)
    [distribution] = of(children, "aws:cloudfront/distribution:Distribution")
    [certificate] = of(children, "aws:acm/certificate:Certificate")
    assert (certificate.region, certificate.inputs["domainName"]) == ("us-east-1", "www.example.com")
    viewer = distribution.inputs["viewerCertificate"]
    assert (viewer["sslSupportMethod"], viewer["minimumProtocolVersion"]) == ("sni-only", "TLSv1.2_2021")
    assert distribution.inputs["aliases"] == ["www.example.com"]
    records = {r.inputs["type"]: r for r in of(children, "aws:route53/record:Record") if r.inputs["name"] == "www.example.com"}
    assert set(records) == {"A", "AAAA"}
    assert records["A"].inputs["aliases"][0]["zoneId"] == "Z2FDTNDATAQYW2"


def test_security_headers_policy_admits_the_api_origin(dr):
    [policy] = of(site_children(dr), "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    headers = policy.inputs["securityHeadersConfig"]
    assert headers["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31_536_000
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"]["frameOption"] == "DENY"
    assert headers["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    csp = headers["contentSecurityPolicy"]["contentSecurityPolicy"]
    assert "connect-src 'self' https://api.example.com" in csp and "script-src 'self'" in csp
    [oac] = of(site_children(dr), "aws:cloudfront/originAccessControl:OriginAccessControl")
    assert (oac.inputs["signingBehavior"], oac.inputs["signingProtocol"], oac.inputs["originAccessControlOriginType"]) == (
        "always",
        "sigv4",
        "s3",
    )


def test_dev_has_one_origin_no_group_and_the_default_certificate():
    dev = cached_stack("dev")
    [distribution] = of(site_children(dev), "aws:cloudfront/distribution:Distribution")
    assert [o["originId"] for o in distribution.inputs["origins"]] == ["s3-us-east-1"]
    assert "originGroups" not in distribution.inputs
    assert distribution.inputs["defaultCacheBehavior"]["targetOriginId"] == "s3-us-east-1"
    assert distribution.inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "aliases" not in distribution.inputs
    config = [r for r in dev.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.inputs["key"] == "config.json"]
    cfg = config_of(dev)
    assert json.loads(config[0].inputs["content"]) == {
        "apiBaseUrl": dev.outputs["apiUrls"]["us-east-1"],
        "regions": {"us-east-1": dev.outputs["apiUrls"]["us-east-1"]},
        "failoverTimeoutMs": 1500,
        # The API's read edge, where the page reads first, and how long it keeps an answer.
        **({"edge": dev.outputs["apiEdgeUrl"], "edgeCacheSeconds": cfg.edge_cache_seconds} if cfg.edge_reads else {}),
        # A post's link is its own page.
        **({"postPages": True} if cfg.post_pages else {}),
    }


def test_every_site_bucket_tells_the_browser_every_regions_api():
    """The browser fails over between the regional APIs itself: config.json names all of them."""
    dr = cached_stack("dr")
    configs = [
        json.loads(r.inputs["content"])
        for r in dr.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if r.inputs["key"] == "config.json"
    ]
    assert len(configs) == len(dr.outputs["regions"])
    for config in configs:
        assert config["regions"] == {r: dr.outputs["apiUrls"][r] for r in dr.outputs["regions"]}
        assert config["apiBaseUrl"] == dr.outputs["apiPublicUrl"]


def test_access_logs_and_waf_when_config_asks():
    """Site logs kept 90 days: in their own bucket, or (post pages, whose views are counted from
    them) in the home region's view-count bucket, under its prefix, kept as long."""
    base, overrides = VARIANTS["no-analytics-mail-without-domain-site-logs-and-waf"]
    acl, run = overrides["siteWebAclArn"], cached_stack(base, **overrides)
    [distribution] = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"]
    assert distribution.inputs["webAclId"] == acl
    name = "api-edge-logs" if config_of(run).post_pages else "site-logs"
    [logs] = [r for r in run.of_type("aws:s3/bucket:Bucket") if r.name == name]
    assert distribution.inputs["loggingConfig"]["bucket"] == logs.state["bucketDomainName"]
    [ownership] = [r for r in run.resources if r.name == f"{name}-ownership"]
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerPreferred"}
    [lifecycle] = [r for r in run.resources if r.name == f"{name}-lifecycle"]
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 90}
    # The log bucket's two exceptions are suppressed with reasons; nothing else is.
    from policy.engine import evaluate

    assert evaluate(run)["violations"] == []
