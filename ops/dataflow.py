"""The data paths of a planned stack as a Mermaid flowchart: where a request goes, which store it
writes, which consumer picks it up, what replicates between regions and how readers fail over.

Drawn from the offline run, not from a fixed picture: the regions, the write mode (writes go to
the primary's replica or to the local one), the page-view transport, whether the mail paths, the
DNS failover, the backups (with their cross-region copy) and the analytics path exist all come from the recorded
resources and outputs. Left to right, one box
per region, so the chart fits a page for two or three regions.
"""

from __future__ import annotations

from ops.offline_run import StackRun


def _id(*parts: str) -> str:
    return "_".join(p.replace("-", "_") for p in parts)


def _has(run: StackRun, type_: str, name_prefix: str) -> bool:
    return any(r.type == type_ and r.name.startswith(name_prefix) for r in run.resources)


def render(run: StackRun) -> str:
    regions = list(run.outputs.get("regions") or [])
    home = run.outputs.get("homeRegion") or (regions[0] if regions else "")
    write_mode = run.outputs.get("writeMode", "single-primary")
    dns = bool(run.of_type("aws:route53/healthCheck:HealthCheck"))
    transport = (
        "FIFO queue"
        if any(q.name.startswith("views-") and q.inputs.get("fifoQueue") for q in run.of_type("aws:sqs/queue:Queue"))
        else "Kinesis stream"
    )
    vaults = dict(run.outputs.get("backupVaults") or {})
    analytics = dict(run.outputs.get("analytics") or {})
    lines = [
        "flowchart LR",
        '  reader(["Readers and the admin (browser)"])',
        '  cdn["CloudFront: origin group, per-request failover"]',
        "  reader -->|pages| cdn",
    ]
    if dns:
        lines.append('  r53{{"Route 53: latency/failover records, health checks on /health"}}')
        lines.append("  reader -->|API name| r53")
    for region in regions:
        r = _id(region)
        mail = _has(run, "aws:lambda/function:Function", f"welcome-{region}")
        lines += [
            f'  subgraph {r}["{region}{" (home: primary for writes)" if region == home and write_mode == "single-primary" else ""}"]',
            "    direction TB",
            f'    {r}_api["API Gateway + API function"]',
            f'    {r}_site[("site bucket")]',
            f'    {r}_table[("table replica")]',
            f'    {r}_retry["write-retry topic -> queue -> retry consumer"]',
            f'    {r}_views["page views: {transport} -> views consumer"]',
            f'    {r}_media[("media bucket")]',
            f'    {r}_thumbs["uploads queue -> thumbnails consumer"]',
        ]
        if region in vaults:
            lines.append(f'    {r}_vault[("backup vault")]')
        if region in analytics:
            lines.append(f'    {r}_analytics[("analytics: Firehose -> Parquet, Glue table, Athena")]')
        if mail:
            lines += [
                f'    {r}_welcome["table stream -> welcome consumer"]',
                f'    {r}_ses["SES: welcome mail"]',
                f'    {r}_bounces["SES feedback topic -> bounces consumer"]',
            ]
        lines.append("  end")
        lines += [
            f"  cdn --> {r}_site",
            f"  reader -->|client failover, same Idempotency-Key| {r}_api",
            f"  {r}_api -->|deferred writes: 202| {r}_retry",
            f"  {r}_api -->|POST /events| {r}_views",
            f"  {r}_views -->|own counter item| {r}_table",
            f"  {r}_api -->|reads| {r}_table",
            f"  reader -->|presigned upload| {r}_media",
            f"  {r}_media --> {r}_thumbs -->|thumbnail| {r}_media",
        ]
        if dns:
            lines.append(f"  r53 -->|healthy| {r}_api")
        if region in analytics:
            lines.append(f"  {r}_views -->|every view| {r}_analytics")
        writes_to = _id(home) if write_mode == "single-primary" else r
        how = "writes, epoch-fenced" if write_mode == "single-primary" else "writes, strongly consistent"
        lines += [
            f"  {r}_api -->|{how}| {writes_to}_table",
            f"  {r}_retry -->|applies| {writes_to}_table",
        ]
        if mail:
            lines += [
                f"  {r}_table -->|new subscriber| {r}_welcome -->|claims on the primary, then sends| {r}_ses",
                f"  {r}_ses -->|bounces, complaints| {r}_bounces -->|suppressions| {writes_to}_table",
            ]
    if home in vaults:
        lines += [
            f"  {_id(home)}_table -->|scheduled backup| {_id(home)}_vault",
            f"  {_id(home)}_media -->|scheduled backup| {_id(home)}_vault",
        ]
        for plan in run.of_type("aws:backup/plan:Plan"):
            for rule in plan.inputs.get("rules") or []:
                for copy in rule.get("copyActions") or []:
                    region = copy["destinationVaultArn"].split(":")[3]
                    lines.append(f"  {_id(home)}_vault -.->|copy of every recovery point| {_id(region)}_vault")
    for index, region in enumerate(regions):
        for other in regions[index + 1 :]:
            a, b = _id(region), _id(other)
            lines += [
                f"  {a}_table <-.->|global table replication| {b}_table",
                f"  {a}_media <-.->|S3 replication, RTC 15 min| {b}_media",
            ]
            if region in analytics and other in analytics:
                lines.append(f"  {a}_analytics <-.->|S3 replication, minutes| {b}_analytics")
    return "\n".join(lines) + "\n"
