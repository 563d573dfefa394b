"""What changes between two offline plans: resources added, removed, changed property by property,
the changes that replace a resource (and lose what it holds), and the change in the DR budget.

Plans are the JSON documents of `sdr plan --stack <stack> --format json`; `plan_at_ref`
makes one from the program as it was at a git ref. Resources are matched by URN, as the engine
matches them: a renamed resource is one removed and one added.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stack.project import PROJECT_DIR

# Properties AWS fixes at creation: changing one makes the provider delete and re-create the
# resource (for a table, a new empty table; for a bucket, a new empty bucket). From the AWS API
# references (CreateTable/UpdateTable, CreateBucket, CreateKey, ...) and the provider's ForceNew
# arguments; the reason is what the user loses.
CREATE_ONLY: dict[str, dict[str, str]] = {
    "aws:dynamodb/table:Table": {
        "name": "the table name",
        "hashKey": "the key schema (partition key): a new, empty table",
        "rangeKey": "the key schema (sort key): a new, empty table",
        "globalTableWitness": "the witness of a strongly consistent global table",
        "replicas[].consistencyMode": "the consistency mode: MRSC is chosen when the global table is created",
        "replicas[].kmsKeyArn": "a replica's encryption key: the replica is re-created and re-seeded",
        "localSecondaryIndexes": "local secondary indexes exist only from creation",
    },
    "aws:s3/bucket:Bucket": {
        "bucket": "the bucket name: a new, empty bucket",
        "bucketPrefix": "the bucket name: a new, empty bucket",
        "objectLockEnabled": "object lock is chosen at creation",
    },
    "aws:kms/key:Key": {
        "customerMasterKeySpec": "the key spec",
        "keyUsage": "the key usage",
        "multiRegion": "multi-Region keys are chosen at creation",
    },
    "aws:sqs/queue:Queue": {"name": "the queue name: messages in flight are lost", "fifoQueue": "FIFO is chosen at creation"},
    "aws:sns/topic:Topic": {"name": "the topic name: subscriptions are re-created", "fifoTopic": "FIFO is chosen at creation"},
    "aws:kinesis/stream:Stream": {"name": "the stream name: unread records are lost"},
    "aws:lambda/function:Function": {"name": "the function name"},
    "aws:cloudwatch/logGroup:LogGroup": {"name": "the log group name: its logs stay behind"},
    "aws:ssm/parameter:Parameter": {"name": "the parameter name"},
    "aws:acm/certificate:Certificate": {
        "domainName": "the certificate's names: a new certificate and validation",
        "subjectAlternativeNames": "the certificate's names: a new certificate and validation",
        "keyAlgorithm": "the key algorithm: a new certificate and validation",
    },
    "aws:apigateway/domainName:DomainName": {"domainName": "the custom domain: DNS changes target"},
    "aws:route53/record:Record": {"zoneId": "the hosted zone", "name": "the record name", "type": "the record type"},
}


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    region: str | None
    changes: list[PropertyChange]
    replaced_by: list[str] = field(default_factory=list)  # "path: reason" for create-only changes


@dataclass
class PlanDiff:
    stack: str
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[ResourceChange]
    dr_budget: dict[str, tuple[Any, Any]]
    # Standing monthly cost before and after, and the lines that moved: {label: (before, after)}.
    idle_cost: tuple[float | None, float | None] = (None, None)
    cost_lines: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def replacements(self) -> list[ResourceChange]:
        return [c for c in self.changed if c.replaced_by]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "added": [_brief(r) for r in self.added],
            "removed": [_brief(r) for r in self.removed],
            "changed": [asdict(c) for c in self.changed],
            "replaced": [c.urn for c in self.replacements],
            "dr_budget": {k: {"before": b, "after": a} for k, (b, a) in self.dr_budget.items()},
            "cost": {
                "idle_monthly_usd": {"before": self.idle_cost[0], "after": self.idle_cost[1]},
                "lines": {k: {"before": b, "after": a} for k, (b, a) in self.cost_lines.items()},
            },
        }


def _brief(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: resource.get(k) for k in ("urn", "type", "name", "region")}


def _decoded(value: Any) -> Any:
    """A JSON document held in a string input (an IAM policy) as data, so it diffs statement by statement."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    """{"a.b[0].c": leaf} for nested inputs; lists of scalars stay whole (they change as a set)."""
    value = _decoded(value)
    if isinstance(value, dict):
        if not value:
            return {path: {}}
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(_flatten(value[key], f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        sids = [v.get("Sid") for v in value if isinstance(v, dict)]
        # Policy statements by Sid: one added statement does not shift every later one.
        keyed = len(sids) == len(value) and all(sids) and len(set(sids)) == len(sids)
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{path}[Sid={item['Sid']}]" if keyed else f"{path}[{index}]"))
        return out
    return {path: value}


def _property_changes(before: dict[str, Any], after: dict[str, Any]) -> list[PropertyChange]:
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [
        PropertyChange(path, flat_before.get(path), flat_after.get(path))
        for path in sorted(set(flat_before) | set(flat_after))
        if flat_before.get(path) != flat_after.get(path)
    ]


def _generic(path: str) -> str:
    """`replicas[1].kmsKeyArn` -> `replicas[].kmsKeyArn`: how CREATE_ONLY names list members."""
    import re

    return re.sub(r"\[\d+\]", "[]", path)


def _replacing(type_: str, changes: list[PropertyChange]) -> list[str]:
    create_only = CREATE_ONLY.get(type_, {})
    reasons = []
    for change in changes:
        generic = _generic(change.path)
        for prop, reason in create_only.items():
            if generic == prop or generic.startswith(prop + ".") or generic.startswith(prop + "["):
                entry = f"{change.path}: {reason}"
                if entry not in reasons:
                    reasons.append(entry)
    return reasons


def diff_plans(before: dict[str, Any], after: dict[str, Any]) -> PlanDiff:
    old = {r["urn"]: r for r in before["resources"]}
    new = {r["urn"]: r for r in after["resources"]}
    changed = []
    for urn in sorted(set(old) & set(new)):
        changes = _property_changes(old[urn].get("inputs") or {}, new[urn].get("inputs") or {})
        if changes:
            r = new[urn]
            changed.append(ResourceChange(urn, r["type"], r["name"], r.get("region"), changes, _replacing(r["type"], changes)))
    budget_before, budget_after = before.get("dr") or {}, after.get("dr") or {}
    budget = {
        key: (budget_before.get(key), budget_after.get(key))
        for key in sorted(set(budget_before) | set(budget_after))
        if budget_before.get(key) != budget_after.get(key)
    }
    before_cost, after_cost = before.get("cost") or {}, after.get("cost") or {}
    return PlanDiff(
        stack=after.get("stack", ""),
        added=[new[u] for u in sorted(set(new) - set(old))],
        removed=[old[u] for u in sorted(set(old) - set(new))],
        changed=changed,
        dr_budget=budget,
        idle_cost=(before_cost.get("idle_monthly_usd"), after_cost.get("idle_monthly_usd")),
        cost_lines=_cost_lines(before_cost, after_cost),
    )


def _cost_lines(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[float, float]]:
    def by_label(cost: dict[str, Any]) -> dict[str, float]:
        return {
            f"{line['region']} {line['type'].rsplit(':', 1)[-1]}: {line['detail']}": line["monthly_usd"]
            for line in cost.get("lines") or []
        }

    old, new = by_label(before), by_label(after)
    return {k: (old.get(k, 0.0), new.get(k, 0.0)) for k in sorted(set(old) | set(new)) if old.get(k, 0.0) != new.get(k, 0.0)}


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_diff(diff: PlanDiff) -> str:
    lines = [
        f"{diff.stack}: {len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to change "
        f"({len(diff.replacements)} replaced)",
        "",
    ]
    for resource in diff.added:
        lines.append(f"+ {resource['type']}  {resource['name']}  [{resource.get('region') or 'global'}]")
    for resource in diff.removed:
        lines.append(f"- {resource['type']}  {resource['name']}  [{resource.get('region') or 'global'}]")
    for change in diff.changed:
        mark = "+-" if change.replaced_by else "~ "
        lines.append(f"{mark} {change.type}  {change.name}  [{change.region or 'global'}]")
        for reason in change.replaced_by:
            lines.append(f"    REPLACED because of {reason}")
        for prop in change.changes:
            lines.append(f"    {prop.path}: {_short(prop.before)} -> {_short(prop.after)}")
    before_cost, after_cost = diff.idle_cost
    if before_cost is not None or after_cost is not None:
        lines += ["", f"Cost at zero traffic: ${before_cost or 0:.2f} -> ${after_cost or 0:.2f} per month"]
        lines += [f"  {label}: ${b:.2f} -> ${a:.2f}" for label, (b, a) in diff.cost_lines.items()]
    if diff.dr_budget:
        lines += ["", "DR budget"]
        lines += [f"  {key}: {_short(b)} -> {_short(a)}" for key, (b, a) in diff.dr_budget.items()]
    return "\n".join(lines) + "\n"


def plan_at_ref(ref: str, stack: str, extra_args: list[str] | None = None, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The JSON plan of `stack` as the program and its stack file were at git `ref`."""
    with tempfile.TemporaryDirectory() as work:
        archive = Path(work) / "ref.tar"
        result = subprocess.run(
            ["git", "-C", str(project_dir), "archive", "--format=tar", "-o", str(archive), ref],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ValueError(f"git ref {ref!r}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'unknown'}")
        tree = Path(work) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        layer = project_dir / "build"
        if layer.exists():
            shutil.copytree(layer, tree / "build", dirs_exist_ok=True)
        planned = subprocess.run(
            [*_plan_command(tree, stack), "--format", "json", *(extra_args or [])],
            cwd=tree,
            capture_output=True,
            text=True,
        )
        if planned.returncode != 0:
            raise ValueError(f"plan at {ref}: {(planned.stderr.strip().splitlines() or ['failed'])[-1]}")
        # Asset paths name the checkout they were planned in; compare them relative to it.
        return json.loads(planned.stdout.replace(f"{tree}/", ""))


def _plan_command(tree: Path, stack: str) -> list[str]:
    """How the checkout at a ref plans a stack: `sdr plan` since there is one, `ops.plan` or
    `tools.plan` (the layouts before it) for older refs."""
    if (tree / "ops" / "cli.py").exists():
        return [sys.executable, "-m", "ops", "plan", "--stack", stack]
    package = "ops" if (tree / "ops" / "plan.py").exists() else "tools"
    return [sys.executable, "-m", f"{package}.plan", stack]


def load_base(target: str, stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """A saved JSON plan (a file path) or a git ref to plan."""
    path = Path(target)
    if path.is_file():
        return json.loads(path.read_text())
    return plan_at_ref(target, stack, project_dir=project_dir)
