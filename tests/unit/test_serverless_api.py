"""ServerlessApi built directly: the function, its role, the document, stage, key, plan, domain."""

import json

import pulumi
import pytest

from components import ApiDomain, Hardening, Route, ServerlessApi, ServerlessApiArgs, allow
from tests.helpers import providers_for, run_component

REGION = "us-west-2"
ROUTES = (
    Route(path="/health", method="get"),
    Route(path="/items", method="get", query=("limit",), cached=True),
    Route(path="/items", method="post", body="Item", keyed=True),
    Route(path="/items/{id}", method="get", cached=True),
    Route(path="/items/{id}", method="delete", keyed=True, query=("version",), required_query=("version",)),
)
SCHEMAS = {"Item": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}
TABLE = f"arn:aws:dynamodb:{REGION}:123456789012:table/items"


def build(**overrides):
    def program():
        provider = providers_for(REGION)[REGION]
        args = {
            "code": pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(e, c): return {}")}),
            "handler": "app.handler",
            "routes": ROUTES,
            "schemas": SCHEMAS,
            "environment": {"TABLE_NAME": "items"},
            "statements": [allow(["dynamodb:GetItem"], [TABLE], "ReadItems")],
            "drain_parameter_name": "/shop/test/drain",
            "api_key_value": pulumi.Output.secret("k" * 40),
            "allowed_origin": "https://shop.example.org",
            "alert_topic_arn": f"arn:aws:sns:{REGION}:123456789012:alerts",
            "log_retention_days": 30,
            **overrides,
        }
        api = ServerlessApi("api", ServerlessApiArgs(**args), opts=pulumi.ResourceOptions(provider=provider))
        return {"invoke": api.invoke_url, "health": api.health_url, "public": api.public_url}

    return run_component(program)


def one(run, type_, name=None):
    found = [r for r in run.resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in found]}"
    return found[0]


@pytest.fixture(scope="module")
def run():
    return build()


def test_function_runs_the_callers_code_with_its_environment_and_the_drain_flag(run):
    fn = one(run, "aws:lambda/function:Function", "api-fn")
    assert fn.region == REGION
    assert (fn.inputs["handler"], fn.inputs["runtime"], fn.inputs["architectures"]) == ("app.handler", "python3.13", ["arm64"])
    assert fn.inputs["tracingConfig"] == {"mode": "Active"} and fn.inputs["timeout"] == 10
    assert fn.inputs["environment"]["variables"] == {
        "TABLE_NAME": "items",
        "DRAIN_PARAMETER": "/shop/test/drain",
        "ALLOWED_ORIGIN": "https://shop.example.org",
    }
    assert list(fn.inputs["code"]["archive"]) == ["app.py"]


def test_role_is_the_callers_statements_plus_logs_tracing_and_the_drain_flag(run):
    policy = json.loads(one(run, "aws:iam/rolePolicy:RolePolicy", "api-fn-policy").inputs["policy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert set(grants) == {"OwnLogGroup", "Tracing", "ReadItems", "DrainFlag"}
    assert grants["DrainFlag"] == {
        "Sid": "DrainFlag",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter"],
        "Resource": [f"arn:aws:ssm:{REGION}:123456789012:parameter/shop/test/drain"],
    }
    for sid, statement in grants.items():
        assert ("*" in statement["Resource"]) == (sid == "Tracing"), sid


def test_document_has_every_route_validators_keys_and_cache_keys(run):
    api = one(run, "aws:apigateway/restApi:RestApi")
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    document = json.loads(api.inputs["body"])
    assert {(p, m) for p, methods in document["paths"].items() for m in methods if m != "options"} == {
        (r.path, r.method) for r in ROUTES
    }
    post = document["paths"]["/items"]["post"]
    assert post["security"] == [{"admin_api_key": []}]
    assert post["x-amazon-apigateway-request-validator"] == "body-and-params"
    assert document["components"]["schemas"]["Item"] == SCHEMAS["Item"]
    assert "security" not in document["paths"]["/items"]["get"]
    assert document["paths"]["/items/{id}"]["delete"]["x-amazon-apigateway-request-validator"] == "params"
    cache_keys = document["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["cacheKeyParameters"]
    assert cache_keys == ["method.request.querystring.limit"]
    preflight = document["paths"]["/items"]["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'https://shop.example.org'"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method != "options":
                uri = operation["x-amazon-apigateway-integration"]["uri"]
                assert uri.startswith(f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/") and "api-fn" in uri, path


def test_stage_logs_to_groups_it_owns_traces_and_throttles_health_apart(run):
    stage = one(run, "aws:apigateway/stage:Stage")
    assert (stage.inputs["stageName"], stage.inputs["xrayTracingEnabled"], stage.inputs["cacheClusterEnabled"]) == (
        "v1",
        True,
        False,
    )
    execution_logs = one(run, "aws:cloudwatch/logGroup:LogGroup", "api-execution-logs")
    rest = one(run, "aws:apigateway/restApi:RestApi")
    api_id = rest.state["executionArn"].rsplit(":", 1)[1]
    assert execution_logs.inputs["name"] == f"API-Gateway-Execution-Logs_{api_id}/v1"
    assert execution_logs.inputs["retentionInDays"] == 30
    settings = {s.inputs["methodPath"]: s.inputs["settings"] for s in run.of_type("aws:apigateway/methodSettings:MethodSettings")}
    assert set(settings) == {"*/*", "health/GET"}
    assert (settings["*/*"]["throttlingRateLimit"], settings["*/*"]["throttlingBurstLimit"]) == (100, 200)
    assert (settings["health/GET"]["throttlingRateLimit"], settings["health/GET"]["throttlingBurstLimit"]) == (50, 100)
    assert all(s["loggingLevel"] == "ERROR" and s["dataTraceEnabled"] is False for s in settings.values())


def test_the_account_logging_role_is_kept_on_destroy_or_left_alone(run):
    account = one(run, "aws:apigateway/account:Account")
    assert account.inputs["cloudwatchRoleArn"].startswith("arn:aws:iam::123456789012:role/api-logging-role")
    unmanaged = build(manage_account_logging_role=False)
    assert unmanaged.of_type("aws:apigateway/account:Account") == []
    assert [r.name for r in unmanaged.of_type("aws:iam/role:Role")] == ["api-fn-role"]


def test_key_value_is_secret_in_inputs_and_in_the_plan_keys_output(run):
    assert one(run, "aws:apigateway/apiKey:ApiKey").inputs["value"] == "[secret]"
    plan_key = one(run, "aws:apigateway/usagePlanKey:UsagePlanKey")
    assert plan_key.additional_secret_outputs == ["value"]
    plan = one(run, "aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["quotaSettings"] == {"limit": 1000, "period": "DAY"}
    assert plan.inputs["throttleSettings"] == {"rateLimit": 5, "burstLimit": 10}


def test_a_separate_health_function_with_reserved_concurrency_serves_the_health_route():
    run = build(
        health_handler="health.handler",
        health_environment={"TABLE_NAME": "items"},
        health_statements=[allow(["dynamodb:GetItem"], [TABLE], "Probe")],
        health_reserved_concurrency=2,
    )
    health = one(run, "aws:lambda/function:Function", "api-health")
    assert health.inputs["reservedConcurrentExecutions"] == 2 and health.inputs["handler"] == "health.handler"
    # The page probes /health from the site's origin: the health function answers it CORS too.
    assert health.inputs["environment"]["variables"] == {
        "TABLE_NAME": "items",
        "DRAIN_PARAMETER": "/shop/test/drain",
        "ALLOWED_ORIGIN": "https://shop.example.org",
    }
    document = json.loads(one(run, "aws:apigateway/restApi:RestApi").inputs["body"])
    assert "api-health" in document["paths"]["/health"]["get"]["x-amazon-apigateway-integration"]["uri"]
    assert "api-fn" in document["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["uri"]
    permission = one(run, "aws:lambda/permission:Permission", "api-health-invoke")
    assert permission.inputs["sourceArn"].endswith("/*/GET/health")


def test_hardening_keys_every_log_group_and_environment_and_caps_functions_without_their_own_reservation():
    log_key, env_key = (f"arn:aws:kms:{REGION}:123456789012:key/{k}" for k in ("logs", "env"))
    run = build(
        health_handler="health.handler",
        health_reserved_concurrency=3,
        hardening=Hardening(log_key_arn=log_key, environment_key_arn=env_key, concurrency_limit=40),
    )
    groups = {g.name: g.inputs.get("kmsKeyId") for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups == {n: log_key for n in ("api-fn-logs", "api-health-logs", "api-execution-logs", "api-access-logs")}
    functions = {f.name: f.inputs for f in run.of_type("aws:lambda/function:Function")}
    assert {n: f["kmsKeyArn"] for n, f in functions.items()} == {"api-fn": env_key, "api-health": env_key}
    assert {n: f["reservedConcurrentExecutions"] for n, f in functions.items()} == {"api-fn": 40, "api-health": 3}


def test_cache_is_encrypted_and_keyed_on_the_cached_routes():
    run = build(cache_enabled=True, cache_ttl_seconds=30)
    settings = {s.inputs["methodPath"]: s.inputs["settings"] for s in run.of_type("aws:apigateway/methodSettings:MethodSettings")}
    assert set(settings) == {"*/*", "health/GET", "items/GET", "items/{id}/GET"}
    for path in ("items/GET", "items/{id}/GET"):
        assert settings[path]["cachingEnabled"] is True and settings[path]["cacheDataEncrypted"] is True
        assert settings[path]["cacheTtlInSeconds"] == 30
    assert one(run, "aws:apigateway/stage:Stage").inputs["cacheClusterSize"] == "0.5"


def test_custom_domain_is_regional_dualstack_tls12_with_an_rsa_certificate():
    run = build(domain=ApiDomain(host="api.shop.example.org", zone_name="shop.example.org", owns_validation_record=True))
    domain = one(run, "aws:apigateway/domainName:DomainName")
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "dualstack"}
    certificate = one(run, "aws:acm/certificate:Certificate")
    assert (certificate.inputs["keyAlgorithm"], certificate.inputs["validationMethod"]) == ("RSA_2048", "DNS")
    one(run, "aws:route53/record:Record")  # the validation record this region owns
    assert run.outputs["public"] == "https://api.shop.example.org"
    assert run.outputs["health"] == run.outputs["invoke"] + "/health"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"admin_throttle_rate_limit": 500}, "admin_throttle_rate_limit"),
        ({"cache_ttl_seconds": 4000}, "cache_ttl_seconds"),
        ({"drain_parameter_name": "drain"}, "drain_parameter_name"),
        ({"health_path": "/status"}, "health_path"),
        ({"health_reserved_concurrency": 2}, "health_reserved_concurrency"),
    ],
)
def test_bad_args_name_the_field(overrides, field):
    args = {
        "code": pulumi.AssetArchive({}),
        "handler": "app.handler",
        "routes": ROUTES,
        "schemas": SCHEMAS,
        "drain_parameter_name": "/d",
        "api_key_value": "k",
        "allowed_origin": None,
        "alert_topic_arn": "a",
        "log_retention_days": 7,
        **overrides,
    }
    with pytest.raises(ValueError, match=rf"ServerlessApiArgs\.{field}"):
        ServerlessApiArgs(**args).validate()
