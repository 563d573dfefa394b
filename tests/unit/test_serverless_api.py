"""ServerlessApi: per region the function, its role scope, the API document, stage, key and plan, domain."""

import json

import pytest

from stack.api_contract import load_schema, routes
from tests.helpers import cached_stack
from tools.offline_run import run_stack

REGIONS = ("us-east-1", "us-west-2")


def in_component(run, component: str):
    urn = next(r.urn for r in run.resources if r.type == "serverless-dr:index:ServerlessApi" and r.name == component)
    return run.descendants_of(urn)


def one(resources, type_, name=None):
    found = [r for r in resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in found]}"
    return found[0]


@pytest.fixture(scope="module")
def dr():
    return cached_stack("dr")


@pytest.mark.parametrize("region", REGIONS)
def test_function_is_arm64_python313_traced_with_json_logs(dr, region):
    children = in_component(dr, f"api-{region}")
    fn = one(children, "aws:lambda/function:Function")
    assert fn.region == region
    assert fn.inputs["architectures"] == ["arm64"]
    assert fn.inputs["runtime"] == "python3.13"
    assert fn.inputs["handler"] == "api.app.handler"
    assert fn.inputs["tracingConfig"] == {"mode": "Active"}
    assert fn.inputs["loggingConfig"]["logFormat"] == "JSON"
    assert len(fn.inputs["layers"]) == 1 and f":{region}:" in fn.inputs["layers"][0]
    # The environment holds the signing key: the whole block is a secret in the state.
    assert fn.inputs["environment"] == "[secret]"
    env = fn.state["environment"]["variables"]
    assert env["DRAIN_PARAMETER"] == "/serverless-dr/dr/drain"
    assert env["ALLOWED_ORIGIN"] == "https://www.example.com"
    assert set(env) >= {
        "TABLE_NAME",
        "WRITE_RETRY_TOPIC_ARN",
        "EVENTS_STREAM_NAME",
        "MEDIA_BUCKET",
        "MAX_UPLOAD_BYTES",
        "SIGNING_KEY",
        "WRITE_MODE",
        "HOME_REGION",
        "RECORD_TTL_DAYS",
    }
    assert (env["WRITE_MODE"], env["HOME_REGION"]) == (dr.outputs["writeMode"], dr.outputs["homeRegion"])
    assert len(env["SIGNING_KEY"]) == 48
    archive = fn.inputs["code"]["archive"]
    assert "api/app.py" in archive and "shared/writes.py" in archive
    assert all(p.endswith((".py", ".json")) for p in archive), "only sources go into the archive"
    log_group = one(children, "aws:cloudwatch/logGroup:LogGroup", f"api-{region}-fn-logs")
    assert log_group.inputs["retentionInDays"] == 90


@pytest.mark.parametrize("region", REGIONS)
def test_role_grants_only_what_the_handler_uses_on_local_resources(dr, region):
    children = in_component(dr, f"api-{region}")
    policy = json.loads(one(children, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert set(grants) == {
        "OwnLogGroup",
        "Tracing",
        "LocalReplicaReads",
        "TableWrites",
        "WriteRetryTopic",
        "EventsStream",
        "MediaUploads",
        "ReadThumbnails",
        "SeeMissingThumbnails",
        "DrainFlag",
    }
    # HeadObject carries no s3:prefix: only an unconditional ListBucket turns 403 into 404.
    assert "Condition" not in grants["SeeMissingThumbnails"]
    assert grants["SeeMissingThumbnails"]["Resource"] == [f"arn:aws:s3:::{dr.outputs['mediaBuckets'][region]}"]
    assert grants["LocalReplicaReads"]["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
    table_arn = dr.outputs["tableArns"][region]
    assert grants["LocalReplicaReads"]["Resource"] == [table_arn, f"{table_arn}/index/*"]
    # Writes go to whichever region is primary (single-primary), fenced by ConditionCheckItem.
    assert grants["TableWrites"]["Action"] == [
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert grants["TableWrites"]["Resource"] == [dr.outputs["tableArns"][r] for r in dr.outputs["regions"]]
    assert grants["MediaUploads"]["Action"] == ["s3:PutObject"]
    assert grants["MediaUploads"]["Resource"] == [f"arn:aws:s3:::{dr.outputs['mediaBuckets'][region]}/uploads/*"]
    assert grants["WriteRetryTopic"]["Resource"][0].startswith(f"arn:aws:sns:{region}:")
    assert grants["EventsStream"]["Action"] == ["kinesis:PutRecord"]
    assert grants["DrainFlag"]["Resource"] == [f"arn:aws:ssm:{region}:123456789012:parameter/serverless-dr/dr/drain"]
    # Only X-Ray may use "*": its write actions support no resource-level permission.
    for sid, statement in grants.items():
        assert ("*" in statement["Resource"]) == (sid == "Tracing"), sid
        assert not any(a.endswith("*") for a in statement["Action"])


@pytest.mark.parametrize("region", REGIONS)
def test_rest_api_is_regional_and_built_from_the_openapi_document(dr, region):
    children = in_component(dr, f"api-{region}")
    api = one(children, "aws:apigateway/restApi:RestApi")
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    document = json.loads(api.inputs["body"])
    operations = {(p, m) for p, methods in document["paths"].items() for m in methods if m != "options"}
    assert operations == {(r.path, r.method) for r in routes()}
    for route in routes():
        operation = document["paths"][route.path][route.method]
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert integration["uri"].startswith(
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/arn:aws:lambda:{region}:"
        )
        assert ("security" in operation) == route.keyed
        if route.body:
            assert operation["x-amazon-apigateway-request-validator"] == "body-and-params"
            assert document["components"]["schemas"][route.body] == load_schema(route.body)
    keyed = sorted((r.path, r.method) for r in routes() if r.keyed)
    assert keyed == [("/posts", "post"), ("/posts/{id}", "delete"), ("/posts/{id}", "put")]
    # The stage cache keys on what distinguishes responses, or it would serve one post for another.
    get_one = document["paths"]["/posts/{id}"]["get"]["x-amazon-apigateway-integration"]
    assert get_one["cacheKeyParameters"] == ["method.request.path.id"]
    assert document["paths"]["/posts"]["options"]["x-amazon-apigateway-integration"]["type"] == "mock"
    preflight = document["paths"]["/posts"]["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'https://www.example.com'"


@pytest.mark.parametrize("region", REGIONS)
def test_stage_logs_traces_throttles_and_caches_encrypted(dr, region):
    children = in_component(dr, f"api-{region}")
    stage = one(children, "aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == "v1" and stage.inputs["xrayTracingEnabled"] is True
    assert stage.inputs["cacheClusterEnabled"] is True and stage.inputs["cacheClusterSize"] == "0.5"
    access_format = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert access_format["requestId"] == "$context.requestId" and "status" in access_format
    settings = {
        s.inputs["methodPath"]: s.inputs["settings"] for s in children if s.type == "aws:apigateway/methodSettings:MethodSettings"
    }
    assert set(settings) == {"*/*", "posts/GET", "posts/{id}/GET"}
    for path, setting in settings.items():
        assert setting["loggingLevel"] == "ERROR" and setting["dataTraceEnabled"] is False
        assert (setting["throttlingRateLimit"], setting["throttlingBurstLimit"]) == (100, 200)
        assert setting["cachingEnabled"] is (path != "*/*")
        if setting["cachingEnabled"]:
            assert setting["cacheDataEncrypted"] is True and setting["cacheTtlInSeconds"] == 60
    deployment = one(children, "aws:apigateway/deployment:Deployment")
    assert len(deployment.inputs["triggers"]["document"]) == 64  # sha256 of the document


def test_admin_key_has_the_same_value_in_every_region_and_is_secret(dr):
    keys = {r: one(in_component(dr, f"api-{r}"), "aws:apigateway/apiKey:ApiKey") for r in REGIONS}
    # Recorded inputs (and so the plan) mask the value; the engine receives it as a secret.
    assert {k.inputs["value"] for k in keys.values()} == {"[secret]"}
    values = {k.state["value"] for k in keys.values()}
    assert len(values) == 1 and len(values.pop()) == 40
    assert "adminApiKey" in dr.secret_outputs
    for region in REGIONS:
        children = in_component(dr, f"api-{region}")
        plan = one(children, "aws:apigateway/usagePlan:UsagePlan")
        assert plan.inputs["quotaSettings"] == {"limit": 1000, "period": "DAY"}
        assert plan.inputs["throttleSettings"] == {"rateLimit": 5, "burstLimit": 10}
        assert one(children, "aws:apigateway/usagePlanKey:UsagePlanKey").inputs["keyType"] == "API_KEY"


def test_lambda_permission_is_scoped_to_this_api(dr):
    for region in REGIONS:
        permission = one(in_component(dr, f"api-{region}"), "aws:lambda/permission:Permission")
        assert permission.inputs["principal"] == "apigateway.amazonaws.com"
        assert permission.inputs["sourceArn"].startswith(f"arn:aws:execute-api:{region}:123456789012:")
        assert permission.inputs["sourceArn"].endswith("/*/*/*")


def test_custom_domain_per_region_with_one_shared_validation_record(dr):
    records = [
        r
        for r in dr.resources
        if r.type == "aws:route53/record:Record" and r.name.startswith("api-") and r.name.endswith("-cert-record")
    ]
    assert [r.name for r in records] == ["api-us-east-1-domain-cert-record"]
    for region in REGIONS:
        children = in_component(dr, f"api-{region}")
        cert = one(children, "aws:acm/certificate:Certificate")
        assert (cert.region, cert.inputs["domainName"], cert.inputs["validationMethod"]) == (region, "api.example.com", "DNS")
        domain = one(children, "aws:apigateway/domainName:DomainName")
        assert domain.inputs["securityPolicy"] == "TLS_1_2"
        assert domain.inputs["endpointConfiguration"]["types"] == "REGIONAL"
        validation = one(children, "aws:acm/certificateValidation:CertificateValidation")
        assert validation.inputs["validationRecordFqdns"] == [records[0].inputs["name"]]
        one(children, "aws:apigateway/basePathMapping:BasePathMapping")


def test_dev_has_no_domain_no_cache_and_admits_its_distribution_as_origin():
    dev = cached_stack("dev")
    children = in_component(dev, "api-us-east-1")
    assert not [r for r in children if r.type in ("aws:acm/certificate:Certificate", "aws:apigateway/domainName:DomainName")]
    assert one(children, "aws:apigateway/stage:Stage").inputs["cacheClusterEnabled"] is False
    document = json.loads(one(children, "aws:apigateway/restApi:RestApi").inputs["body"])
    origin = f"https://{dev.outputs['distributionDomain']}"
    preflight = document["paths"]["/posts"]["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    env = one(children, "aws:lambda/function:Function").state["environment"]["variables"]
    assert env["ALLOWED_ORIGIN"] == origin
    assert dev.outputs["apiPublicUrl"] == dev.outputs["apiUrls"]["us-east-1"]


def test_alarms_go_to_the_regions_alert_topic(dr):
    for region in REGIONS:
        children = in_component(dr, f"api-{region}")
        alarms = {a.name: a for a in children if a.type == "aws:cloudwatch/metricAlarm:MetricAlarm"}
        assert set(alarms) == {
            f"api-{region}-5xx-rate",
            f"api-{region}-p99-latency",
            f"api-{region}-fn-errors",
            f"api-{region}-fn-throttles",
        }
        assert alarms[f"api-{region}-p99-latency"].inputs["extendedStatistic"] == "p99"
        assert alarms[f"api-{region}-5xx-rate"].inputs["threshold"] == 0.05
        for alarm in alarms.values():
            [action] = alarm.inputs["alarmActions"]
            assert action.startswith(f"arn:aws:sns:{region}:") and "alerts-" in action


def test_cache_can_be_switched_off_by_config():
    run = run_stack("dr", overrides={"apiCacheEnabled": False})
    settings = [r for r in run.resources if r.type == "aws:apigateway/methodSettings:MethodSettings"]
    assert {s.inputs["methodPath"] for s in settings} == {"*/*"}
