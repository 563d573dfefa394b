"""Offline plan: the program run for a stack under mocks, printed for people and machines.

`sdr plan` and `sdr diff` (ops/cli.py). Formats: text, a tree region -> component -> resource
with counts, the stack's exports (secrets masked) and the DR budget; json, the shape later tools
and checks read; mermaid, the data paths between the stack's stores, consumers and regions
(ops/dataflow.py); components, the component tree.

`assignments` (`--set key=value`) plan with a value the stack file does not have (a what-if;
also how a value an ESC environment or a `secure:` entry provides is supplied offline). Values
are YAML: `--set regions=[us-east-1,eu-west-1]`. `stack_file` (`--config FILE`) plans another
stack file. `base` (`sdr diff BASE`) compares with a saved json plan or with the program at a git
ref: resources added, removed and changed property by property, replacements with the
create-only property that forces them, and the change in the DR budget.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from ops.cost import cost_document
from ops.cost import render as cost_render
from ops.offline_run import RecordedResource, StackRun, run_stack
from stack.project import PROJECT_DIR

SECRET_MASK = "[secret]"
NO_REGION = "global"


def _masked_outputs(run: StackRun) -> dict[str, Any]:
    return {k: (SECRET_MASK if k in run.secret_outputs else v) for k, v in run.outputs.items()}


def policy_report(run: StackRun) -> dict[str, list]:
    """Rules and findings of the policy pack over the recorded resources (none until it exists)."""
    try:
        from policy.engine import evaluate
    except ImportError:
        return {"rules": [], "violations": [], "advisories": []}
    return evaluate(run)


def plan_document(run: StackRun) -> dict[str, Any]:
    budget = run.outputs.get("drBudget", {})
    return {
        "stack": run.stack,
        "project": run.project,
        # Asset paths relative to the project, so plans made in two checkouts compare.
        "resources": json.loads(json.dumps(run.resource_dicts()).replace(f"{PROJECT_DIR}/", "")),
        "outputs": _masked_outputs(run),
        "dr": dict(budget),
        "config_notes": list(run.config_notes),
        "cost": cost_document(run),
        "policy": policy_report(run),
    }


def _owner(resource: RecordedResource, by_urn: dict[str, RecordedResource]) -> RecordedResource | None:
    """The nearest component above a resource (None for resources directly under the stack)."""
    parent = by_urn.get(resource.parent or "")
    while parent is not None and parent.custom:
        parent = by_urn.get(parent.parent or "")
    return parent


def _label(resource: RecordedResource) -> str:
    return f"{resource.type.rsplit(':', 1)[-1]} {resource.name}"


def _annotation(resource: RecordedResource) -> str:
    """Facts worth seeing in the tree that live inside a resource's inputs."""
    replicas = resource.inputs.get("replicas") if resource.type == "aws:dynamodb/table:Table" else None
    if replicas:
        described = [f"{r['regionName']}{' (PITR)' if r.get('pointInTimeRecovery') else ''}" for r in replicas]
        return f"  -> replicas: {', '.join(described)}"
    return ""


def render_text(run: StackRun, document: dict[str, Any]) -> str:
    by_urn = {r.urn: r for r in run.resources}
    custom = [r for r in run.resources if r.custom]
    tree: dict[str, dict[str, list[RecordedResource]]] = defaultdict(lambda: defaultdict(list))
    for resource in custom:
        owner = _owner(resource, by_urn)
        tree[resource.region or NO_REGION][_label(owner) if owner else "(stack)"].append(resource)

    regions = document["dr"]["regions"] or []
    lines = [
        f"{run.project} / {run.stack}: {sum(r.is_aws for r in custom)} AWS resources, "
        f"{sum(not r.is_aws for r in custom)} providers, {len(run.resources) - len(custom)} components "
        f"in {len(regions)} serving region(s)",
        *(f"note: {note}" for note in document["config_notes"]),
        "",
    ]
    for region in sorted(tree, key=lambda r: (r == NO_REGION, regions.index(r) if r in regions else 99, r)):
        components = tree[region]
        lines.append(f"{region} ({sum(len(v) for v in components.values())} resources)")
        for component in sorted(components, key=lambda c: (c == "(stack)", c)):
            lines.append(f"  {component}")
            for resource in sorted(components[component], key=lambda r: (r.type, r.name)):
                lines.append(f"    {resource.type}  {resource.name}{_annotation(resource)}")
        lines.append("")

    lines.append("Outputs")
    for key, value in document["outputs"].items():
        if key != "drBudget":
            lines.append(f"  {key}: {json.dumps(value)}")
    dr = document["dr"]
    lines += [
        "",
        "DR budget",
        f"  regions: {', '.join(regions)}   routing: {dr['routing']}   evacuated: {', '.join(dr['evacuated_regions'] or []) or 'none'}",
        f"  detection: {dr['detection_seconds'] if dr['detection_seconds'] is not None else 'n/a'} s   "
        f"API RTO (worst case): {dr['api_rto_seconds'] if dr['api_rto_seconds'] is not None else 'n/a'} s   "
        f"budget: {dr['rto_budget_seconds']} s",
        f"  static reads: {dr['static_failover']}",
        *_edge_lines(dr.get("edge_reads")),
        *_post_page_lines(dr.get("post_pages")),
        *_paid_content_lines(dr.get("paid_content")),
        *_write_failover_lines(dr.get("write_failover")),
        *(f"  RPO {k}: {v}" for k, v in (dr["rpo"] or {}).items()),
        "",
        *cost_render(document["cost"]),
        "",
        f"Policy: {len(document['policy']['rules'])} rules, {len(document['policy']['violations'])} violations, "
        f"{len(document['policy'].get('advisories', []))} advisories (optional hardening: "
        f"{', '.join(sorted({a['rule'] for a in document['policy'].get('advisories', [])})) or 'none'})",
        *(f"  {v['rule']}: {v['urn']}: {v['message']}" for v in document["policy"]["violations"]),
    ]
    return "\n".join(lines) + "\n"


def _edge_lines(edge: dict | None) -> list[str]:
    if edge is None:
        return ["  API reads: at a region (edgeReads off)"]
    group = edge["origin_group"]
    failover = (
        f"fails over {' -> '.join(group)} per request in {edge['failover_refused_seconds']} s "
        f"({edge['failover_stalled_seconds']} s when a region stalls)"
        if group
        else "one region, no failover at the edge"
    )
    counted = f"; page views counted {edge['view_count_lag']}" if edge["view_count_lag"] else ""
    lines = [f"  API reads at the edge: stale {edge['stale_at_most_seconds']} s at most, {failover}{counted}"]
    stored = edge.get("stored_answers")
    if stored:
        lines.append(
            f"  A post's read at the edge: its stored answer from {stored['read_from']}, else {stored['fallback']}; "
            f"an edit shows after {stored['edit_visible_after']}; its views up to {stored['views_stale_at_most_seconds']} s old"
        )
    return lines


def _paid_content_lines(paid: dict | None) -> list[str]:
    if paid is None:
        return []
    after = paid["new_session_after_seconds"]
    sessions = (
        f"a new session after the API name's failover, {after} s (a playing reader renews with "
        f"{paid['session_renewed_with_seconds_left']} s left: gap {paid['playing_reader_gap_seconds']} s)"
        if after is not None
        else "sessions from the one region"
    )
    return [
        f"  Premium media: cookies live {paid['cookie_seconds']} s, checked at the edge; {sessions}; sign-in: {paid['sign_in']}"
    ]


def _post_page_lines(pages: dict | None) -> list[str]:
    if pages is None:
        return ["  Post pages: off (a post opens in the page, read through the API)"]
    failover = f"fail over with the site in {pages['failover_seconds']} s" if pages["failover_seconds"] else "one region"
    return [
        f"  Post pages: stale {pages['stale_at_most_seconds']} s at most plus {pages['plus']}; {failover}; "
        f"views counted after {pages['view_count_lag']}"
    ]


def _write_failover_lines(budget: dict | None) -> list[str]:
    if budget is None:
        return ["  writes: no primary to lose (one region, or any-region writes)"]
    how = (
        f"automatic, write RTO (worst case) {budget['write_rto_seconds']:g} s"
        if budget["without_an_operator"]
        else "manual: an operator promotes (sdr promote)"
    )
    return [
        f"  writes: {how}; lease {budget['lease_seconds']} s renewed every {budget['renew_every_seconds']:g} s on "
        f"voters in {', '.join(budget['voters'])}; clocks assumed within {budget['clock_drift_assumed_seconds']:g} s",
        f"  deferred writes: {budget['deferred_writes']}",
    ]


def render_mermaid(run: StackRun) -> str:
    components = [r for r in run.resources if not r.custom]
    ids = {r.urn: f"c{i}" for i, r in enumerate(components)}
    by_region: dict[str, list[RecordedResource]] = defaultdict(list)
    for component in components:
        regions = {d.region for d in run.descendants_of(component.urn) if d.custom}
        home = component.region or (next(iter(regions)) if len(regions) == 1 else NO_REGION)
        by_region[home or NO_REGION].append(component)
    lines = ["graph TD", f'  stack["{run.project}/{run.stack}"]']
    for region, members in by_region.items():
        lines.append(f'  subgraph {region.replace("-", "_")}["{region}"]')
        for component in members:
            count = sum(1 for d in run.descendants_of(component.urn) if d.custom)
            lines.append(f'    {ids[component.urn]}["{_label(component)}<br/>{count} resources"]')
        lines.append("  end")
    for component in components:
        source = ids.get(component.parent or "", "stack")
        lines.append(f"  {source} --> {ids[component.urn]}")
    return "\n".join(lines) + "\n"


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """`key=value` pairs (values read as YAML, lists passed on as JSON, as the CLI does)."""
    import yaml

    values = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {assignment}: expected KEY=VALUE")
        value = yaml.safe_load(raw) if raw else ""
        values[key] = raw if isinstance(value, (str, int, float, bool)) or value is None else json.dumps(value)
    return values


def _esc_hint(stack: str, stack_file: Path | None) -> str:
    """When the stack imports ESC environments, a refused value may be one they provide at deploy time."""
    from stack.project import load_stack_document, stack_environments

    try:
        environments = stack_environments(load_stack_document(stack, path=stack_file))
    except (FileNotFoundError, ValueError):
        return ""
    if not environments:
        return ""
    return f" (this stack imports ESC environment(s) {', '.join(environments)}, resolved at deploy time: pass --set KEY=VALUE for what they provide)"


def plan(
    stack: str,
    *,
    fmt: str = "text",
    assignments: list[str] | tuple[str, ...] = (),
    stack_file: Path | None = None,
    base: str | None = None,
) -> str:
    """The plan of `stack` in `fmt` (or its difference from `base`, a saved JSON plan or a git
    ref); an OperatorError with one line when the config or the program is refused."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from pulumi import RunError

    from ops.errors import OperatorError
    from ops.plan_diff import diff_plans, load_base, render_diff
    from stack.config import ConfigError

    try:
        run = run_stack(stack, overrides=parse_assignments(list(assignments)) or None, stack_file=stack_file)
        document = plan_document(run)
        saved = load_base(base, stack) if base else None
    except (ConfigError, RunError, FileNotFoundError, ValueError) as error:
        raise OperatorError(f"{str(error).splitlines()[0]}{_esc_hint(stack, stack_file)}") from None
    if saved is not None:
        difference = diff_plans(saved, document)
        return json.dumps(difference.to_dict(), indent=2) + "\n" if fmt == "json" else render_diff(difference)
    if fmt == "json":
        return json.dumps(document, indent=2, sort_keys=False) + "\n"
    if fmt == "mermaid":
        from ops.dataflow import render as render_dataflow

        return render_dataflow(run)
    if fmt == "components":
        return render_mermaid(run)
    return render_text(run, document)
