"""What must hold for any valid stack config, with the expectation derived from that config.

Each invariant takes the offline run and the StackConfig parsed from the run's own config values,
and returns the problems it found (empty when it holds). Nothing here names a shipped value: a
user's regions, domain, routing, encryption, consistency or evacuation give their own
expectations. `problems(run)` runs them all; the tests run it over the shipped stacks, the
project's own stack files and a matrix of variants.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from components.api_edge import STORED_ORIGIN_ID
from ops.offline_run import StackRun
from policy.engine import evaluate as evaluate_policy
from stack.budget import compute_budget
from stack.config import StackConfig, parse_stack_config, project_values
from stack.project import load_project
from stack.providers import base_tags
from stack.regions import GLOBAL_SERVICES_REGION

TABLE = "aws:dynamodb/table:Table"
RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"


def config_of(run: StackRun) -> StackConfig:
    """The StackConfig the program saw, parsed from the config values the run was given."""
    values = project_values(run.config, load_project().name)
    return parse_stack_config(values, stack=run.stack, allow_placeholder_domain=True)


def variant_config(stack: str, overrides: dict) -> StackConfig:
    """The StackConfig a variant plans with, without planning it: the stack file and the overrides."""
    from stack.project import load_stack_file
    from tests.helpers import fixture_file

    values = project_values({**load_stack_file(stack, path=fixture_file(stack))}, load_project().name)
    values.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()})
    return parse_stack_config(values, stack=stack, allow_placeholder_domain=True)


def _providers(run: StackRun, cfg: StackConfig) -> list[str]:
    out = []
    providers = run.of_type("pulumi:providers:aws")
    expected = sorted({*cfg.regions, GLOBAL_SERVICES_REGION, *cfg.lease_voter_regions})
    if sorted(p.name for p in providers) != [f"aws-{r}" for r in expected]:
        out.append(f"providers {sorted(p.name for p in providers)}, expected one per region {expected}")
    for provider in providers:
        value = provider.inputs.get("defaultTags")
        tags = (json.loads(value) if isinstance(value, str) else value or {}).get("tags")
        if tags != base_tags(cfg):
            out.append(f"{provider.name} default tags {tags} != {base_tags(cfg)}")
    allowed = {*cfg.regions, GLOBAL_SERVICES_REGION}
    witness = set(cfg.lease_voter_regions) - allowed
    for resource in run.resources:
        if not resource.is_aws:
            continue
        if resource.provider is None or resource.region not in allowed | witness:
            out.append(f"{resource.urn} lands in {resource.region} (provider {resource.provider})")
        elif resource.region in witness and not resource.name.startswith("lease-voter"):
            out.append(f"{resource.urn} lands in the lease witness region {resource.region}: only a voter (and its key) may")
    return out


def _write_lease(run: StackRun, cfg: StackConfig) -> list[str]:
    """A voter in every voter region (an odd number), a failover function and schedule per
    serving region, writers told the lease and the voters; none of it in one region."""
    out = []
    voters = sorted(t.region for t in run.of_type(TABLE) if t.name.startswith("lease-voters-"))
    if voters != sorted(cfg.lease_voter_regions):
        out.append(f"lease voters in {voters}, expected {sorted(cfg.lease_voter_regions)}")
    if cfg.write_lease and len(voters) % 2 == 0:
        out.append(f"{len(voters)} voters: an even number lets a partition leave no majority")
    failover = sorted(f.region for f in run.of_type("aws:lambda/function:Function") if f.name.startswith("failover-"))
    schedules = sorted(s.region for s in run.of_type("aws:scheduler/schedule:Schedule"))
    expected = sorted(cfg.regions) if cfg.write_lease else []
    if failover != expected or schedules != expected:
        out.append(f"failover functions in {failover}, schedules in {schedules}, expected {expected}")
    for function in run.of_type("aws:lambda/function:Function"):
        environment = function.inputs.get("environment")
        variables = environment.get("variables") if isinstance(environment, dict) else None
        if (
            isinstance(variables, dict)
            and "WRITE_MODE" in variables
            and variables.get("WRITE_LEASE") != ("on" if cfg.write_lease else "off")
        ):
            out.append(f"{function.name}: WRITE_LEASE={variables.get('WRITE_LEASE')} in a stack whose lease is {cfg.write_lease}")
    if cfg.write_lease and run.outputs.get("writeFailover") != cfg.write_failover:
        out.append(f"writeFailover output {run.outputs.get('writeFailover')} != config {cfg.write_failover}")
    return out


def _table(run: StackRun, cfg: StackConfig) -> list[str]:
    out = []
    [table] = [t for t in run.of_type(TABLE) if t.name == "app-table"]
    inputs = table.inputs
    if table.region != cfg.home_region:
        out.append(f"table in {table.region}, home region is {cfg.home_region}")
    replicas = inputs.get("replicas") or []
    if [r["regionName"] for r in replicas] != list(cfg.regions[1:]):
        out.append(f"replicas {[r['regionName'] for r in replicas]} != {list(cfg.regions[1:])}")
    if not all(r.get("pointInTimeRecovery") for r in replicas) or not inputs.get("pointInTimeRecovery", {}).get("enabled"):
        out.append("point-in-time recovery off on the table or a replica")
    if inputs.get("deletionProtectionEnabled") is not cfg.deletion_protection:
        out.append(f"deletion protection {inputs.get('deletionProtectionEnabled')} != config {cfg.deletion_protection}")
    strong = cfg.consistency == "strong"
    modes = {r.get("consistencyMode", "EVENTUAL") for r in replicas}
    if replicas and modes != {"STRONG" if strong else "EVENTUAL"}:
        out.append(f"replica consistency {modes} for consistency={cfg.consistency}")
    witness = (inputs.get("globalTableWitness") or {}).get("regionName")
    if witness != cfg.witness_region:
        out.append(f"witness {witness} != config {cfg.witness_region}")
    if strong and inputs.get("ttl"):
        out.append("TTL set on a multi-Region strongly consistent table (not supported)")
    sse = inputs.get("serverSideEncryption") or {}
    if cfg.table_encryption == "customer-managed":
        keys = {k.region: k for k in run.of_type("aws:kms/key:Key") if k.name.startswith("app-key-")}
        if set(keys) != set(cfg.regions):
            out.append(f"table keys in {sorted(keys)}, expected {sorted(cfg.regions)}")
        if not sse.get("enabled") or f":{cfg.home_region}:" not in str(sse.get("kmsKeyArn")):
            out.append(f"home table not under its region's key: {sse}")
        for replica in replicas:
            if f":{replica['regionName']}:" not in str(replica.get("kmsKeyArn")):
                out.append(f"replica {replica['regionName']} not under its region's key")
    elif sse.get("kmsKeyArn") or any(r.get("kmsKeyArn") for r in replicas):
        out.append("a customer managed key on an aws-owned table")
    outputs = run.outputs
    if set(outputs.get("tableArns", {})) != set(cfg.regions):
        out.append(f"tableArns regions {sorted(outputs.get('tableArns', {}))}")
    idempotency = sorted(t.region for t in run.of_type(TABLE) if t.name.startswith("idempotency-"))
    if idempotency != sorted(cfg.regions):
        out.append(f"idempotency tables in {idempotency}")
    # Under customer-managed keys every table is, the idempotency tables (region-local) included.
    for table in (t for t in run.of_type(TABLE) if t.name.startswith("idempotency-")):
        key = str((table.inputs.get("serverSideEncryption") or {}).get("kmsKeyArn") or "")
        if cfg.table_encryption == "customer-managed" and f":{table.region}:" not in key:
            out.append(f"idempotency table {table.name} not under its region's key")
        if cfg.table_encryption != "customer-managed" and key:
            out.append(f"idempotency table {table.name} under a customer managed key on an aws-owned stack")
    return out


def _regional_apis(run: StackRun, cfg: StackConfig) -> list[str]:
    out = []
    apis = sorted(r.region for r in run.of_type("aws:apigateway/restApi:RestApi"))
    if apis != sorted(cfg.regions):
        out.append(f"REST APIs in {apis}")
    health = sorted(f.region for f in run.of_type("aws:lambda/function:Function") if f.name.endswith("-health"))
    if health != sorted(cfg.regions):
        out.append(f"health functions in {health}")
    if list(run.outputs.get("regions", [])) != list(cfg.regions):
        out.append(f"regions output {run.outputs.get('regions')}")
    if run.outputs.get("writeMode") != cfg.write_mode:
        out.append(f"writeMode output {run.outputs.get('writeMode')} != {cfg.write_mode}")
    if "adminApiKey" not in run.secret_outputs:
        out.append("adminApiKey is not a secret output")
    waf = sorted(a.region for a in run.of_type("aws:wafv2/webAclAssociation:WebAclAssociation"))
    if waf != sorted(cfg.api_web_acl_arns):
        out.append(f"WAF associations in {waf}, config names {sorted(cfg.api_web_acl_arns)}")
    for key in run.of_type("aws:apigateway/usagePlanKey:UsagePlanKey"):
        if "value" not in key.additional_secret_outputs:
            out.append(f"{key.name}: value not stored as a secret")
    return out


def _dns(run: StackRun, cfg: StackConfig) -> list[str]:
    out = []
    api_records = [r for r in run.of_type(RECORD) if r.inputs.get("name") == cfg.api_host]
    checks = {c.name: c for c in run.of_type(HEALTH_CHECK)}
    if cfg.domain is None:
        if api_records or checks:
            out.append("DNS records or health checks without a domain")
        return out
    if cfg.multi_region:
        expected = {(region, kind) for region in cfg.regions for kind in ("A", "AAAA")}
        found = {(r.inputs.get("setIdentifier"), r.inputs.get("type")) for r in api_records}
        if found != expected:
            out.append(f"API records {sorted(found)} != {sorted(expected)}")
        for record in api_records:
            region = record.inputs.get("setIdentifier")
            if cfg.routing == "latency" and record.inputs.get("latencyRoutingPolicies") != [{"region": region}]:
                out.append(f"{record.name}: not latency-routed to {region}")
            if cfg.routing == "failover":
                role = "PRIMARY" if region == cfg.regions[0] else "SECONDARY"
                if record.inputs.get("failoverRoutingPolicies") != [{"type": role}]:
                    out.append(f"{record.name}: not {role}")
            if not record.inputs.get("healthCheckId"):
                out.append(f"{record.name}: no health check")
        inverted = {name.removeprefix("api-dns-check-") for name, c in checks.items() if c.inputs.get("invertHealthcheck")}
        if inverted != set(cfg.evacuated_regions):
            out.append(f"inverted health checks {sorted(inverted)} != evacuated {sorted(cfg.evacuated_regions)}")
        if len(checks) != len(cfg.regions):
            out.append(f"{len(checks)} health checks for {len(cfg.regions)} regions")
    elif {r.inputs.get("type") for r in api_records} != {"A", "AAAA"}:
        out.append("single-region API name is not aliased (A and AAAA)")
    [distribution] = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"]
    if cfg.site_host not in (distribution.inputs.get("aliases") or []):
        out.append(f"distribution does not serve {cfg.site_host}")
    return out


def _static_site(run: StackRun, cfg: StackConfig) -> list[str]:
    [distribution] = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"]
    origins = distribution.inputs.get("origins") or []
    groups = distribution.inputs.get("originGroups") or []
    out = []
    if cfg.multi_region:
        members = [m["originId"] for m in groups[0]["members"]] if groups else []
        if members != [f"s3-{cfg.regions[0]}", f"s3-{cfg.regions[1]}"]:
            out.append(f"origin group {members}: expected the first two regions in order")
    elif groups or len(origins) != 1:
        out.append("a single-region site has one origin and no group")
    return out


def _api_edge(run: StackRun, cfg: StackConfig) -> list[str]:
    """The read edge exists exactly with edgeReads; it reads from every serving region (the first
    two in its origin group, home first), keeps exactly the routes marked edge_cached for
    edgeCacheSeconds, keyed on nothing that names a client, and takes no write."""
    from components.api_edge import CACHING_DISABLED, READ_METHODS, cache_key_query, path_pattern
    from stack import api_contract

    edges = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "api-edge-cdn"]
    if not cfg.edge_reads:
        return ["a read edge with edgeReads off"] if edges else []
    if not edges:
        return ["no read edge with edgeReads on"]
    [edge] = edges
    serving = cfg.serving_regions
    out = []
    api_origins = [o["originId"] for o in edge.inputs["origins"] if o["originId"].startswith("api-")]
    if api_origins != [f"api-{r}" for r in serving]:
        out.append(f"origins {api_origins} != the serving regions {serving}")
    groups = {g["originId"]: [m["originId"] for m in g["members"]] for g in edge.inputs.get("originGroups") or []}
    members = groups.get("api-failover", [])
    if len(serving) > 1 and members != [f"api-{r}" for r in serving[:2]]:
        out.append(f"origin group {members}: expected {serving[:2]}")
    out += _stored_answers(run, cfg, edge, groups)
    routes = api_contract.edge_routes()
    behaviours = {b["pathPattern"]: b for b in edge.inputs.get("orderedCacheBehaviors") or []}
    [policy] = [p for p in run.of_type("aws:cloudfront/cachePolicy:CachePolicy") if p.name == "api-edge-reads"]
    if {policy.inputs[k] for k in ("minTtl", "defaultTtl", "maxTtl")} != {cfg.edge_cache_seconds}:
        out.append(
            f"cache policy TTLs {[policy.inputs[k] for k in ('minTtl', 'defaultTtl', 'maxTtl')]} != {cfg.edge_cache_seconds}"
        )
    key = policy.inputs["parametersInCacheKeyAndForwardedToOrigin"]
    if not _keyed_on_origin_only(policy):
        out.append("the cache key holds a cookie or a header other than Origin")
    if key["queryStringsConfig"]["queryStrings"]["items"] != cache_key_query(routes):
        out.append(f"cache key query {key['queryStringsConfig']['queryStrings']['items']}")
    for behaviour in [edge.inputs["defaultCacheBehavior"], *behaviours.values()]:
        if sorted(behaviour["allowedMethods"]) != sorted(READ_METHODS):
            out.append(f"behaviour {behaviour.get('pathPattern', 'default')} allows {behaviour['allowedMethods']}")
    for route in (r for r in routes if r.method == "get"):
        behaviour = behaviours.get(path_pattern(route.path))
        if behaviour is None:
            out.append(f"no behaviour for GET {route.path}")
        elif route.edge_cached == (behaviour["cachePolicyId"] == CACHING_DISABLED):
            out.append(f"GET {route.path}: cached at the edge is {not route.edge_cached}")
    return out


def _keyed_on_origin_only(policy) -> bool:
    """No cookie and no header but Origin in a cache policy's key: no answer is one client's."""
    key = policy.inputs["parametersInCacheKeyAndForwardedToOrigin"]
    return key["cookiesConfig"]["cookieBehavior"] == "none" and key["headersConfig"]["headers"]["items"] == ["Origin"]


def _stored_answers(run: StackRun, cfg: StackConfig, edge, groups: dict[str, list[str]]) -> list[str]:
    """With post pages and the read edge: GET /posts/{id} from the first serving region's site
    bucket through an OAC, the next serving region's API behind it, kept storedAnswerSeconds;
    that bucket admits the edge to its stored answers only. Without: nothing of it."""
    stored = [o for o in edge.inputs["origins"] if o["originId"] == STORED_ORIGIN_ID]
    if not cfg.stored_answers:
        return [f"stored answers with postPages={cfg.post_pages}"] if stored or "stored-failover" in groups else []
    first, *others = cfg.serving_regions
    out = []
    [bucket] = [b for b in run.of_type("aws:s3/bucket:Bucket") if b.name == f"site-{first}"]
    if len(stored) != 1 or not stored[0].get("originAccessControlId") or stored[0].get("originPath") != "/api":
        out.append("the stored answers' origin is not one bucket through an OAC under /api")
    elif stored[0]["domainName"] != bucket.state.get("bucketRegionalDomainName"):
        out.append(f"stored answers read from {stored[0]['domainName']}, not the {first} site bucket")
    if groups.get("stored-failover") != [STORED_ORIGIN_ID, f"api-{(others or [first])[0]}"]:
        out.append(f"stored answers' group {groups.get('stored-failover')}")
    behaviours = {b["pathPattern"]: b for b in edge.inputs.get("orderedCacheBehaviors") or []}
    [policy] = [p for p in run.of_type("aws:cloudfront/cachePolicy:CachePolicy") if p.name == "api-edge-stored"]
    if behaviours.get("/posts/*", {}).get("targetOriginId") != "stored-failover":
        out.append("GET /posts/{id} is not read from the stored answers")
    if {policy.inputs[k] for k in ("minTtl", "defaultTtl", "maxTtl")} != {cfg.stored_answer_seconds}:
        out.append(f"stored answers kept {policy.inputs['defaultTtl']} s, not {cfg.stored_answer_seconds}")
    if not _keyed_on_origin_only(policy):
        out.append("the stored answers' cache key holds a cookie or a header other than Origin")
    [site_policy] = [p for p in run.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.name == f"site-{first}-policy"]
    readers = [s for s in json.loads(site_policy.inputs["policy"])["Statement"] if s["Sid"].startswith("PrefixReader")]
    admitted = [(s["Resource"], s["Condition"]["StringEquals"]["AWS:SourceArn"]) for s in readers]
    if admitted != [(f"{bucket.state.get('arn')}/api/*", edge.state.get("arn"))]:
        out.append(f"the {first} site bucket admits {admitted}, not the edge to api/* only")
    return out


def _cost_choices(run: StackRun, cfg: StackConfig) -> list[str]:
    """Each standing charge is there exactly when its config choice asks for it."""
    out = []
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    if bool(alarms) != cfg.alarms:
        out.append(f"{len(alarms)} alarms with alarms={cfg.alarms}")
    if bool(run.of_type("aws:cloudwatch/dashboard:Dashboard")) != cfg.dashboard:
        out.append(f"dashboard present != dashboard={cfg.dashboard}")
    streams = sorted(s.region for s in run.of_type("aws:kinesis/stream:Stream"))
    fifo = sorted(
        q.region for q in run.of_type("aws:sqs/queue:Queue") if q.name.startswith("views-") and q.name.endswith("-queue")
    )
    expected_streams = [] if cfg.page_view_transport == "sqs-fifo" else sorted(cfg.regions)
    if streams != expected_streams or fifo != sorted(set(cfg.regions) - set(expected_streams)):
        out.append(f"page views: streams in {streams}, FIFO queues in {fifo} for {cfg.page_view_transport}")
    for check in run.of_type("aws:route53/healthCheck:HealthCheck"):
        if bool(check.inputs.get("measureLatency")) != cfg.health_check_latency_graphs:
            out.append(f"{check.name}: latency graphs != healthCheckLatencyGraphs={cfg.health_check_latency_graphs}")
    return out


def _backups(run: StackRun, cfg: StackConfig) -> list[str]:
    """Vaults in every region with their own key, the plan as configured, the copy, the lock."""
    vaults = {v.region: v for v in run.of_type("aws:backup/vault:Vault")}
    plans = run.of_type("aws:backup/plan:Plan")
    locks = run.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    if not cfg.backups:
        return [f"backups=false yet {len(vaults)} vaults, {len(plans)} plans"] if vaults or plans else []
    out = []
    if sorted(vaults) != sorted(cfg.regions):
        out.append(f"vaults in {sorted(vaults)}, expected one per region {sorted(cfg.regions)}")
    out += [f"vault in {r} has no KMS key" for r, v in vaults.items() if not v.inputs.get("kmsKeyArn")]
    [plan] = plans
    [rule] = plan.inputs["rules"]
    if plan.region != cfg.home_region or rule["targetVaultName"] != run.outputs["backupVaults"][cfg.home_region]:
        out.append(f"plan in {plan.region} backs up to {rule['targetVaultName']}: expected the {cfg.home_region} vault")
    if rule["schedule"] != cfg.backup_schedule or rule["lifecycle"]["deleteAfter"] != cfg.backup_retention_days:
        out.append(f"rule {rule['schedule']} kept {rule['lifecycle']['deleteAfter']} days != config")
    copies = [c["destinationVaultArn"] for c in rule.get("copyActions") or []]
    if cfg.backup_copy_region is None:
        out += [f"copies to {copies} in a single-region stack"] if copies else []
    else:
        copy_vault = run.outputs["backupVaults"][cfg.backup_copy_region]
        if len(copies) != 1 or not copies[0].endswith(
            f":{cfg.backup_copy_region}:{_account(copies[0])}:backup-vault:{copy_vault}"
        ):
            out.append(f"copies to {copies}: expected the vault {copy_vault} in {cfg.backup_copy_region}")
    [selection] = run.of_type("aws:backup/selection:Selection")
    protected = selection.inputs["resources"]
    table_arn, media_arn = (
        run.outputs["tableArns"][cfg.home_region],
        f"arn:aws:s3:::{run.outputs['mediaBuckets'][cfg.home_region]}",
    )
    # A relational store without a global database relies on the backups (relationalDbDr backup-copy).
    store = run.outputs.get("relationalDataApi") or {}
    cluster = [store[cfg.home_region]["resourceArn"]] if store and not cfg.relational.is_global else []
    if sorted(protected) != sorted([table_arn, media_arn, *cluster]):
        out.append(
            f"selection protects {protected}: expected the home table {table_arn} and bucket {media_arn}"
            + (f" and cluster {cluster[0]}" if cluster else "")
        )
    expected_locks = len(cfg.regions) if cfg.backup_vault_lock else 0
    if len(locks) != expected_locks:
        out.append(f"{len(locks)} vault locks with backupVaultLock={cfg.backup_vault_lock}")
    for lock in locks:
        retention = (lock.inputs.get("minRetentionDays"), lock.inputs.get("maxRetentionDays"))
        if retention != (cfg.backup_retention_days, cfg.backup_retention_days) or "changeableForDays" not in lock.inputs:
            out.append(f"{lock.name}: retention {retention}, expected {cfg.backup_retention_days} in compliance mode")
    return out


def _analytics(run: StackRun, cfg: StackConfig) -> list[str]:
    """A delivery stream, table and workgroup per region when on; every table sees every region."""
    streams = run.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    tables = run.of_type("aws:glue/catalogTable:CatalogTable")
    workgroups = run.of_type("aws:athena/workgroup:Workgroup")
    if not cfg.analytics:
        return [f"analytics=false yet {len(streams)} delivery streams"] if streams or tables or workgroups else []
    out = []
    for kind, found in (("delivery streams", streams), ("tables", tables), ("workgroups", workgroups)):
        if sorted(r.region for r in found) != sorted(cfg.regions):
            out.append(f"{kind} in {sorted(r.region for r in found)}, expected one per region {sorted(cfg.regions)}")
    for table in tables:
        projected = table.inputs["parameters"]["projection.region.values"].split(",")
        if projected != list(cfg.regions):
            out.append(f"{table.name} projects {projected}: a survivor would not see every region's views")
    from_stream = cfg.page_view_transport != "sqs-fifo"
    for stream in streams:
        if bool(stream.inputs.get("kinesisSourceConfiguration")) != from_stream:
            out.append(f"{stream.name}: source does not match pageViewTransport={cfg.page_view_transport}")
    return out


def _hardening(run: StackRun, cfg: StackConfig) -> list[str]:
    """Log groups and environments under the region's operations key exactly when chosen; every
    function capped at the limit (health keeps its own reservation), SQS mappings with it."""
    out = []
    keys = {k.region: k for k in run.of_type("aws:kms/key:Key") if k.name.startswith("operations-")}
    logs = cfg.log_encryption == "customer-managed"
    environments = cfg.function_environment_encryption == "customer-managed"
    expected_keys = sorted(cfg.regions) if logs or environments else []
    if sorted(keys) != expected_keys:
        out.append(f"operations keys in {sorted(keys)}, expected {expected_keys}")
    for region, key in keys.items():
        # No policy input: AWS's default key policy (the account only), which admits no service.
        statements = json.loads(key.inputs["policy"])["Statement"] if key.inputs.get("policy") else []
        services = {s["Principal"].get("Service") for s in statements}
        if (f"logs.{region}.amazonaws.com" in services) != logs:
            out.append(f"{key.name}: CloudWatch Logs admitted != logEncryption={cfg.log_encryption}")

    def under_region_key(value, region: str) -> bool:
        return bool(value) and f":{region}:" in str(value) and region in keys

    for group in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
        if under_region_key(group.inputs.get("kmsKeyId"), group.region) != logs:
            out.append(f"log group {group.name}: key {group.inputs.get('kmsKeyId')} with logEncryption={cfg.log_encryption}")
    for function in run.of_type("aws:lambda/function:Function"):
        if (
            function.inputs.get("environment")
            and under_region_key(function.inputs.get("kmsKeyArn"), function.region) != environments
        ):
            out.append(f"function {function.name}: environment key with {cfg.function_environment_encryption}")
        health = function.name.endswith("-health") and cfg.health_reserved_concurrency
        expected = cfg.health_reserved_concurrency if health else cfg.function_concurrency_limit
        if function.inputs.get("reservedConcurrentExecutions") != expected:
            out.append(f"function {function.name}: reserved {function.inputs.get('reservedConcurrentExecutions')} != {expected}")
    for mapping in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        if ":sqs:" not in str(mapping.inputs.get("eventSourceArn")):
            continue
        found = (mapping.inputs.get("scalingConfig") or {}).get("maximumConcurrency")
        if found != cfg.function_concurrency_limit:
            out.append(f"{mapping.name}: SQS maximum concurrency {found} != {cfg.function_concurrency_limit}")
    return out


def _account(arn: str) -> str:
    return arn.split(":")[4]


def _budget(run: StackRun, cfg: StackConfig) -> list[str]:
    expected = compute_budget(cfg).to_dict()
    return [] if run.outputs.get("drBudget") == expected else [f"drBudget {run.outputs.get('drBudget')} != {expected}"]


def _post_pages(run: StackRun, cfg: StackConfig) -> list[str]:
    """Post pages exist exactly with postPages: in every region a renderer on that region's
    replica's stream, writing pages into that region's site bucket only (under posts/), and a
    render-all on deploy; views are counted from the site's logs, and from no other."""
    renderers = {f.region: f for f in run.of_type("aws:lambda/function:Function") if f.name.startswith("pages-")}
    invocations = {i.region for i in run.of_type("aws:lambda/invocation:Invocation") if i.name.startswith("pages-")}
    if not cfg.post_pages:
        return ["post page renderers with postPages off"] if renderers or invocations else []
    out = []
    if set(renderers) != set(cfg.regions) or invocations != set(cfg.regions):
        out.append(f"renderers in {sorted(renderers)}, render-all in {sorted(invocations)}: expected {cfg.regions}")
    buckets = run.outputs["siteBuckets"]
    for region, function in renderers.items():
        target = function.inputs["environment"]["variables"]["SITE_BUCKET"]
        if target != buckets.get(region):
            out.append(f"the {region} renderer writes {target}, not its region's site bucket")
    mappings = [m for m in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping") if m.name.startswith("pages-")]
    for mapping in mappings:
        if f":{mapping.region}:" not in mapping.inputs["eventSourceArn"]:
            out.append(f"the {mapping.region} renderer reads another region's stream")
    site = next((d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"), None)
    counter = [n for n in run.of_type("aws:s3/bucketNotification:BucketNotification") if n.name.startswith("edge-views-")]
    if site is None or "loggingConfig" not in site.inputs:
        out.append("the site does not log its page requests, which are the views")
    elif not counter or counter[0].inputs["queues"][0]["filterPrefix"] != site.inputs["loggingConfig"]["prefix"]:
        out.append("the view counter does not read the site's logs")
    return out


def _policy(run: StackRun, cfg: StackConfig) -> list[str]:
    return [f"{v['rule']}: {v['message']}" for v in evaluate_policy(run)["violations"]]


def _paid_content(run: StackRun, cfg: StackConfig) -> list[str]:
    """Paid content exists exactly with paidContent: the pool in the home region with the token
    life asked for, a public key per configured name in the key group, a /premium/* behaviour
    trusting it over the premium buckets (serving regions first), those buckets admitting the
    site's distribution only, every region's API with its own secret replica and the cookie life
    asked for."""
    pools = run.of_type("aws:cognito/userPool:UserPool")
    [site] = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"]
    premium_paths = [b for b in site.inputs.get("orderedCacheBehaviors") or [] if b["pathPattern"] == "/premium/*"]
    apis = [f for f in run.of_type("aws:lambda/function:Function") if f.name.startswith("api-") and f.name.endswith("-fn")]
    environments = {f.region: f.inputs["environment"]["variables"] for f in apis}
    if not cfg.paid_content.enabled:
        stray = pools or premium_paths or [r for r, env in environments.items() if "PREMIUM_SIGNING_KEY_SECRET" in env]
        return ["paid content planned with paidContent off"] if stray else []
    paid = cfg.paid_content
    out = []
    [client] = run.of_type("aws:cognito/userPoolClient:UserPoolClient")
    if [p.region for p in pools] != [cfg.home_region] or client.inputs["idTokenValidity"] != paid.token_minutes:
        out.append(
            f"pool in {[p.region for p in pools]}, ID tokens {client.inputs['idTokenValidity']} min (want {paid.token_minutes})"
        )
    keys = sorted(k.name for k in run.of_type("aws:cloudfront/publicKey:PublicKey"))
    [group] = run.of_type("aws:cloudfront/keyGroup:KeyGroup")
    if keys != sorted(f"paid-key-{name}" for name in paid.signing_keys) or len(group.inputs["items"]) != len(paid.signing_keys):
        out.append(f"public keys {keys} for {list(paid.signing_keys)}")
    if len(premium_paths) != 1 or not premium_paths[0].get("trustedKeyGroups"):
        return [*out, "no /premium/* behaviour trusting the key group"]
    order = [*cfg.serving_regions, *cfg.evacuated_regions][:2]
    groups = {g["originId"]: [m["originId"] for m in g["members"]] for g in site.inputs.get("originGroups") or []}
    target = premium_paths[0]["targetOriginId"]
    if groups.get(target, [target]) != [f"premium-{r}" for r in order]:
        out.append(f"/premium/* reads {groups.get(target, [target])}, want the premium buckets of {order}")
    buckets = {b.region for b in run.of_type("aws:s3/bucket:Bucket") if (b.inputs.get("tags") or {}).get("content") == "premium"}
    if buckets != set(cfg.regions):
        out.append(f"premium buckets in {sorted(buckets)}")
    for region, env in environments.items():
        secret = str(env.get("PREMIUM_SIGNING_KEY_SECRET", ""))
        if f":secretsmanager:{region}:" not in secret or env.get("PREMIUM_COOKIE_SECONDS") != str(paid.cookie_seconds):
            out.append(f"{region}'s API signs with {secret or 'no secret'}, cookies {env.get('PREMIUM_COOKIE_SECONDS')} s")
        if ("PREMIUM_TEST_PURCHASES" in env) is not paid.test_purchases:
            out.append(f"{region}'s API test purchases {'on' if 'PREMIUM_TEST_PURCHASES' in env else 'off'}")
    [secret] = [s for s in run.of_type("aws:secretsmanager/secret:Secret") if s.name == "paid-signing-key"]
    if sorted(r["region"] for r in secret.inputs.get("replicas") or []) != sorted(r for r in cfg.regions if r != cfg.home_region):
        out.append("the signing key is not replicated to every other region")
    return out


INVARIANTS: dict[str, Callable[[StackRun, StackConfig], list[str]]] = {
    "providers": _providers,
    "table": _table,
    "regional-apis": _regional_apis,
    "dns": _dns,
    "static-site": _static_site,
    "api-edge": _api_edge,
    "post-pages": _post_pages,
    "paid-content": _paid_content,
    "cost-choices": _cost_choices,
    "backups": _backups,
    "analytics": _analytics,
    "write_lease": _write_lease,
    "hardening": _hardening,
    "budget": _budget,
    "policy": _policy,
}


def problems(run: StackRun) -> dict[str, list[str]]:
    cfg = config_of(run)
    found = {name: check(run, cfg) for name, check in INVARIANTS.items()}
    return {name: items for name, items in found.items() if items}
