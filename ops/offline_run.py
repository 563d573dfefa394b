"""Run the whole program for a stack under Pulumi mocks and record every resource.

This is the one offline run that the tests, the plan, the policy checks and the benchmarks share:
- config: Pulumi.yaml defaults + Pulumi.<stack>.yaml (+ overrides), passed the way the CLI does;
- `preview=False`, so every `apply` runs and nothing passes vacuously on unknowns;
- a fresh event loop per run (works on Python 3.11 to 3.13; no module-level `set_mocks`);
- every registration recorded with its URN, type, name, inputs (camelCase, as the engine gets
  them), parent URN and the region of the explicit provider it uses;
- a duplicate URN fails the run, as the real engine would;
- invokes answer with camelCase fields (getCallerIdentity, getRegion, getZone, getPartition).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import runpy
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop

from stack.config import OFFLINE_ENV
from stack.project import PROJECT_DIR, load_project, load_stack_document, stack_environments

ACCOUNT_ID = "123456789012"
PROVIDER_TYPE = "pulumi:providers:aws"


class DuplicateUrnError(RuntimeError):
    pass


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    region: str | None
    parent: str | None
    inputs: dict[str, Any]
    custom: bool
    provider: str | None = None
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    # Which resources each input came from (as the engine and pulumi-policy see them).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict, repr=False)
    # Outputs the engine stores as secrets (the resource option, as pulumi-policy sees it).
    additional_secret_outputs: list[str] = field(default_factory=list, repr=False)

    @property
    def is_aws(self) -> bool:
        return self.custom and self.type.startswith("aws:")


@dataclass
class StackRun:
    project: str
    stack: str
    config: dict[str, str]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    # What the offline run stood in for (secrets it cannot decrypt, ESC-provided keys).
    config_notes: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} named {name}, found {len(found)}")
        return found[0]

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants_of(self, urn: str) -> list[RecordedResource]:
        out, frontier = [], [urn]
        while frontier:
            current = frontier.pop()
            for child in self.children_of(current):
                out.append(child)
                frontier.append(child.urn)
        return out

    def resource_dicts(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in asdict(r).items() if k in ("urn", "type", "name", "region", "parent", "inputs")}
            for r in self.resources
        ]


def _physical_name(logical: str) -> str:
    return f"{logical}-{hashlib.sha256(logical.encode()).hexdigest()[:7]}"


def _arn(service: str, region: str | None, resource: str) -> str:
    return f"arn:aws:{service}:{region or ''}:{ACCOUNT_ID}:{resource}"


def _table(state, region, physical, _logical):
    state["arn"] = _arn("dynamodb", region, f"table/{physical}")
    if state.get("streamEnabled"):
        state["streamArn"] = f"{state['arn']}/stream/2026-01-01T00:00:00.000"
    state["replicas"] = [
        {
            **replica,
            "arn": _arn("dynamodb", replica["regionName"], f"table/{physical}"),
            "streamArn": _arn("dynamodb", replica["regionName"], f"table/{physical}/stream/2026-01-01T00:00:00.000"),
        }
        for replica in state.get("replicas") or []
    ]


def _certificate(state, _region, _physical, _logical):
    # ACM asks for the same validation record for a domain in every region of an account.
    domain = state["domainName"]
    token = hashlib.sha256(domain.encode()).hexdigest()[:32]
    state["domainValidationOptions"] = [
        {
            "domainName": domain,
            "resourceRecordName": f"_{token}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{token[::-1]}.acm-validations.aws.",
        }
    ]


def _kms_key(state, region, _physical, logical):
    state["keyId"] = hashlib.sha256(logical.encode()).hexdigest()[:32]
    state["arn"] = _arn("kms", region, f"key/{state['keyId']}")


def _queue(state, region, physical, _logical):
    # pulumi-aws autonames a FIFO queue with the .fifo suffix SQS requires (pulumi-aws#1398).
    if state.get("fifoQueue") and not physical.endswith(".fifo"):
        physical = state["name"] = f"{physical}.fifo"
    state["arn"] = _arn("sqs", region, physical)
    state["url"] = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{physical}"


def _rest_api(state, region, physical, _logical):
    api_id = hashlib.sha256(physical.encode()).hexdigest()[:10]
    state["executionArn"] = _arn("execute-api", region, api_id)
    state["rootResourceId"] = api_id[:6]
    state["id"] = api_id


_API_GATEWAY_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "eu-west-1": "ZLY8HYME6SFDD",
}


def _api_domain(state, region, _physical, _logical):
    state["regionalDomainName"] = (
        f"d-{hashlib.sha256((state['domainName'] + str(region)).encode()).hexdigest()[:10]}.execute-api.{region}.amazonaws.com"
    )
    state["regionalZoneId"] = _API_GATEWAY_ZONES.get(region, "ZAPIGATEWAY")


def _bucket(state, region, physical, _logical):
    state["bucket"] = state.get("bucket") or physical
    state["arn"] = f"arn:aws:s3:::{state['bucket']}"
    state["bucketRegionalDomainName"] = f"{state['bucket']}.s3.{region}.amazonaws.com"
    state["bucketDomainName"] = f"{state['bucket']}.s3.amazonaws.com"


def _email_identity(state, region, _physical, logical):
    identity = state["emailIdentity"]
    state["arn"] = _arn("ses", region, f"identity/{identity}")
    if state.get("dkimSigningAttributes") is not None:
        tokens = [hashlib.sha256(f"{identity}/{region}/{i}".encode()).hexdigest()[:32] for i in range(3)]
        state["dkimSigningAttributes"] = {**state["dkimSigningAttributes"], "tokens": tokens}


def _distribution(state, _region, physical, _logical):
    distribution_id = "E" + hashlib.sha256(physical.encode()).hexdigest()[:13].upper()
    state["id"] = distribution_id
    state["arn"] = f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}"
    state["domainName"] = f"d{distribution_id[1:].lower()}.cloudfront.net"
    state["hostedZoneId"] = "Z2FDTNDATAQYW2"


def _load_balancer(state, region, physical, _logical):
    suffix = f"app/{physical[:32]}/{hashlib.sha256(physical.encode()).hexdigest()[:16]}"
    state["arn"] = _arn("elasticloadbalancing", region, f"loadbalancer/{suffix}")
    state["arnSuffix"] = suffix
    state["dnsName"] = f"internal-{physical[:32]}.{region}.elb.amazonaws.com"


def _target_group(state, region, physical, _logical):
    suffix = f"targetgroup/{physical[:32]}/{hashlib.sha256(physical.encode()).hexdigest()[:16]}"
    state["arn"] = _arn("elasticloadbalancing", region, suffix)
    state["arnSuffix"] = suffix


def _rds_cluster(state, region, physical, _logical):
    identifier = state.get("clusterIdentifier") or physical
    state.update(arn=_arn("rds", region, f"cluster:{identifier}"), clusterIdentifier=identifier, id=identifier)


def _global_cluster(state, _region, physical, _logical):
    identifier = state.get("globalClusterIdentifier") or physical
    state.update(arn=_arn("rds", None, f"global-cluster:{identifier}"), id=identifier)


_SHAPERS = {
    # RDS names its resources after a colon, a global cluster has no region, and each one's id is
    # its identifier.
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:rds/clusterInstance:ClusterInstance": lambda s, r, p, _l: s.update(arn=_arn("rds", r, f"db:{p}"), identifier=p, id=p),
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:secretsmanager/secret:Secret": lambda s, r, p, _l: s.update(arn=_arn("secretsmanager", r, f"secret:{p}-AbCdEf")),
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:ecs/cluster:Cluster": lambda s, r, p, _l: s.update(arn=_arn("ecs", r, f"cluster/{p}")),
    "aws:ecs/taskDefinition:TaskDefinition": lambda s, r, p, _l: s.update(
        arn=_arn("ecs", r, f"task-definition/{s.get('family', p)}:1"), revision=1
    ),
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:sesv2/emailIdentity:EmailIdentity": _email_identity,
    "aws:dynamodb/table:Table": _table,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:kms/key:Key": _kms_key,
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": lambda s, r, p, _l: s.update(arn=_arn("sns", r, p)),
    "aws:kinesis/stream:Stream": lambda s, r, p, _l: s.update(arn=_arn("kinesis", r, f"stream/{p}")),
    "aws:lambda/function:Function": lambda s, r, p, _l: s.update(arn=_arn("lambda", r, f"function:{p}")),
    "aws:lambda/layerVersion:LayerVersion": lambda s, r, p, _l: s.update(
        arn=_arn("lambda", r, f"layer:{s.get('layerName', p)}:1")
    ),
    "aws:iam/role:Role": lambda s, _r, p, _l: s.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{p}"),
    "aws:cloudwatch/logGroup:LogGroup": lambda s, r, p, _l: s.update(arn=_arn("logs", r, f"log-group:{p}")),
    "aws:ssm/parameter:Parameter": lambda s, r, p, _l: s.update(arn=_arn("ssm", r, f"parameter{p}")),
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/domainName:DomainName": _api_domain,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:backup/vault:Vault": lambda s, r, p, _l: s.update(arn=_arn("backup", r, f"backup-vault:{p}")),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": lambda s, r, p, _l: s.update(
        arn=_arn("firehose", r, f"deliverystream/{p}")
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": lambda s, r, p, _l: s.update(arn=_arn("glue", r, f"database/{p}")),
    "aws:glue/catalogTable:CatalogTable": lambda s, r, p, _l: s.update(arn=_arn("glue", r, f"table/{s.get('databaseName')}/{p}")),
    "aws:athena/workgroup:Workgroup": lambda s, r, p, _l: s.update(arn=_arn("athena", r, f"workgroup/{p}")),
    "aws:cloudwatch/logStream:LogStream": lambda s, r, p, _l: s.update(
        arn=_arn("logs", r, f"log-group:{s.get('logGroupName')}:log-stream:{p}")
    ),
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would for the outputs the program reads (names, ARNs, replica ARNs)."""

    def __init__(self) -> None:
        self.provider_regions: dict[str, str] = {}

    def region_of(self, provider_ref: str | None) -> str | None:
        if not provider_ref:
            return None
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[0])

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == PROVIDER_TYPE:
            return f"{args.name}-id", state
        if args.typ.startswith("random:"):
            length = int(state.get("length", 32))
            state["result"] = hashlib.sha256(args.name.encode()).hexdigest()[:length].ljust(length, "x")
            return f"{args.name}-id", state
        if args.typ == "tls:index/privateKey:PrivateKey":
            # Placeholders in the PEM shapes (a plan compares runs: no fresh key per run).
            digest = hashlib.sha256(args.name.encode()).hexdigest()
            state["publicKeyPem"] = f"-----BEGIN PUBLIC KEY-----\nOFFLINE{digest}\n-----END PUBLIC KEY-----\n"
            state["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\nOFFLINE{digest}\n-----END PRIVATE KEY-----\n"
            return f"{args.name}-id", state
        region = self.region_of(args.provider)
        physical = state.get("name") or _physical_name(args.name)
        state.setdefault("name", physical)
        service = args.typ.split(":")[1].split("/")[0]
        kind = args.typ.rsplit(":", 1)[1]
        state.setdefault("arn", _arn(service, region, f"{kind.lower()}/{physical}"))
        shaper = _SHAPERS.get(args.typ)
        if shaper:
            shaper(state, region, physical, args.name)
        return state.pop("id", f"{physical}-id"), state

    def call(self, args: pulumi.runtime.MockCallArgs):
        region = self.region_of(args.provider)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline",
                "userId": "OFFLINE",
                "id": ACCOUNT_ID,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": region, "name": region, "id": region, "endpoint": f"{region}.amazonaws.com"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:route53/getZone:getZone":
            zone_name = args.args.get("name", "example.com").rstrip(".")
            zone_id = "Z" + hashlib.sha256(zone_name.encode()).hexdigest()[:12].upper()
            return {"zoneId": zone_id, "id": zone_id, "name": zone_name, "nameServers": [f"ns-1.{zone_name}"]}
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{letter}" for letter in "abc"]
            return {"names": names, "zoneIds": [f"{region[:3]}{region.split('-')[-1]}-az{i}" for i in (1, 2, 3)], "id": region}
        raise NotImplementedError(f"offline run has no answer for invoke {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that records parent, provider region and inputs, and refuses duplicate URNs."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        # Registrations arrive on several threads at once; claim each URN atomically.
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        with self._lock:
            if urn in self._claimed:
                raise DuplicateUrnError(f"duplicate URN {urn}: the engine would reject this program")
            self._claimed.add(urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        mocks: RecordingMocks = self.mocks  # type: ignore[assignment]
        if request.type == PROVIDER_TYPE:
            mocks.provider_regions[urn] = inputs.get("region")
        provider_ref = request.provider or (request.providers.get("aws") if request.providers else None)
        response = super().RegisterResource(request)
        self.recorded.append(
            RecordedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                region=inputs.get("region") if request.type == PROVIDER_TYPE else mocks.region_of(provider_ref),
                parent=request.parent or None,
                inputs=_plain(inputs),
                custom=bool(request.custom),
                provider=provider_ref.rsplit("::", 1)[0] if provider_ref else None,
                state=_unwrap_secrets(self.resources[urn].state),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
                additional_secret_outputs=list(request.additionalSecretOutputs),
            )
        )
        return response


SECRET_MASK = "[secret]"


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _unwrap_secrets(value: Any) -> Any:
    """The mock's view of a resource: secret values in clear (tests compare them)."""
    if _is_secret(value):
        return _unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Inputs as JSON-able data for records and the plan: secrets masked, archives as paths."""
    if _is_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _plain(asset) for name, asset in value.assets.items()}}
    if isinstance(value, (pulumi.FileArchive, pulumi.FileAsset)):
        return {"path": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    return value


@dataclass(frozen=True)
class ResolvedConfig:
    """Config as the offline run can know it, and what it could not know."""

    values: dict[str, str]  # {namespaced key: string}, as the CLI hands them to a program
    secret_keys: list[str]
    environments: list[str]  # ESC environments the stack file imports
    notes: list[str]  # one line per value the offline run had to stand in for


def _as_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def resolve_config(
    stack: str, overrides: dict[str, Any] | None = None, project_dir: Path = PROJECT_DIR, stack_file: Path | None = None
) -> ResolvedConfig:
    """Pulumi.yaml defaults, then the stack file, then `overrides`.

    What only the deploy can know is stood in for and said: a `secure:` value (ciphertext the
    offline run cannot decrypt) is planned with the key's default, or masked if the program does
    not read it; keys an imported ESC environment may provide are planned with their defaults.
    `overrides` (`--set key=value`) supply any of them."""
    project = load_project(project_dir)
    prefix = f"{project.name}:"
    document = load_stack_document(stack, project_dir, path=stack_file)
    written = document.get("config") or {}
    values: dict[str, Any] = {f"{prefix}{k}": spec.default for k, spec in project.keys.items()}
    values.update(project.fixed_values)
    secret_keys: list[str] = []
    notes: list[str] = []
    supplied = {key if ":" in key else f"{prefix}{key}" for key in overrides or {}}
    for key, value in written.items():
        key = key if ":" in key else f"{prefix}{key}"
        if not _is_secure(value):
            values[key] = value
            continue
        secret_keys.append(key)
        if key in supplied:
            continue
        if key.startswith(prefix) and key[len(prefix) :] in project.keys:
            notes.append(
                f"{key} is a secret (secure:) the offline plan cannot decrypt: planned with its default "
                f"{json.dumps(values[key])}; pass --set {key[len(prefix) :]}=... to plan with a value"
            )
        else:
            values[key] = SECRET_MASK
            notes.append(f"{key} is a secret (secure:): masked offline")
    environments = stack_environments(document)
    if environments:
        unset = sorted(k for k in project.keys if f"{prefix}{k}" not in written and f"{prefix}{k}" not in supplied)
        notes.append(
            f"imports ESC environment(s) {', '.join(environments)}: their values are resolved at deploy time, not "
            f"offline; keys this file does not set were planned with their defaults ({', '.join(unset)}); "
            "pass --set key=value for any the environment provides"
        )
    for key, value in (overrides or {}).items():
        values[key if ":" in key else f"{prefix}{key}"] = value
    return ResolvedConfig(
        values={k: _as_string(v) for k, v in values.items()},
        secret_keys=sorted(set(secret_keys)),
        environments=environments,
        notes=notes,
    )


def stack_config(
    stack: str, overrides: dict[str, Any] | None = None, project_dir: Path = PROJECT_DIR, stack_file: Path | None = None
) -> dict[str, str]:
    """`{namespaced-key: string}` as the CLI would hand it to the program (`stack_file` instead of
    the project's Pulumi.<stack>.yaml: the tests' reference copies)."""
    return resolve_config(stack, overrides, project_dir, stack_file).values


async def _resolve(outputs: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    resolved, secrets = {}, set()
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[name] = await output.future()
        if await output.is_secret():
            secrets.add(name)
    return resolved, secrets


def _no_stack_trace():
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def run_program(
    program: Callable[[], Any],
    *,
    stack: str,
    config: dict[str, str],
    project: str,
    secret_keys: list[str] | None = None,
) -> StackRun:
    """Run `program` (the whole `__main__.py`, or one component for unit tests) under the recording mocks."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK reads the whole call stack (with source lines) at every registration, for the
    # engine's source positions; mocks never look at them, and it is a tenth of a run's time.
    stack_trace = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = _no_stack_trace
    offline_before = os.environ.get(OFFLINE_ENV)
    os.environ[OFFLINE_ENV] = "1"  # the program may plan the shipped placeholder domain here
    try:
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config(config, secret_keys or [])
        mocks = RecordingMocks()
        monitor = RecordingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
        # Outputs and RPCs left over by an earlier run that failed belong to a closed loop.
        settings.SETTINGS.outputs.clear()
        settings.SETTINGS.rpc_manager.clear()
        loop.run_until_complete(run_pulumi_func(program))
        root = settings.get_root_resource()
        outputs, secrets = loop.run_until_complete(_resolve(dict(root.outputs)))
    finally:
        runtime_resource._get_stack_trace = stack_trace
        if offline_before is None:
            os.environ.pop(OFFLINE_ENV, None)
        else:
            os.environ[OFFLINE_ENV] = offline_before
        settings.ROOT.set(None)
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
    return StackRun(
        project=project, stack=stack, config=config, resources=monitor.recorded, outputs=outputs, secret_outputs=secrets
    )


# A store of finished runs: given a run's key and a way to compute it, the run (a copy of its own
# for each caller). A test session installs one (tests/conftest.py) so that the same program with
# the same config is run once however many tests and commands ask for it.
RunStore = Callable[[str, Callable[[], StackRun]], StackRun]
_run_store: RunStore | None = None


def share_runs(store: RunStore | None) -> None:
    global _run_store
    _run_store = store


def run_stack(
    stack: str,
    overrides: dict[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    secret_keys: list[str] | None = None,
    stack_file: Path | None = None,
) -> StackRun:
    """The whole program for `stack` with its real config (Pulumi.yaml defaults + stack file + overrides)."""
    resolved = resolve_config(stack, overrides, project_dir, stack_file)
    secrets = sorted({*(secret_keys or []), *resolved.secret_keys})

    def run() -> StackRun:
        main = str(project_dir / "__main__.py")
        finished = run_program(
            lambda: runpy.run_path(main, run_name="__main__"),
            stack=stack,
            config=resolved.values,
            project=load_project(project_dir).name,
            secret_keys=secrets,
        )
        finished.config_notes = resolved.notes
        return finished

    if _run_store is None:
        return run()
    # What decides a run: the program (its directory), the stack's name and the config it reads.
    identity = [str(project_dir.resolve()), stack, resolved.values, secrets, resolved.notes]
    return _run_store(hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24], run)
