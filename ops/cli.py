"""`sdr`: every command an operator runs, offline or against the deployed stack.

    sdr plan --stack dr                        sdr drill status --stack dr --region us-west-2
    sdr diff origin/main --stack dr            sdr drill promote --stack dr --region us-west-2
    sdr cost --stack dr                        sdr restore-test --stack dr
    sdr preflight --stack dr                   sdr writes list --stack dr
    sdr gameday run --base dr --domain gameday.acme.io --yes

Installed as a console script by `make` (the `ops` package, ops/pyproject.toml); `python -m ops`
is the same without it. Every command takes `--stack` (or SDR_STACK); the ones that act on a
deployed stack read its outputs from `pulumi stack output --json` or `--outputs FILE`. Errors
are one line after the command's name; exit statuses are in docs/cli.md (ops/errors.py).
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ops.errors import AwsUnavailable, CheckFailed, OperatorError

FORMATS = click.Choice(["text", "json"])


@dataclass
class Deps:
    """What commands reach the world through; tests give their own."""

    session_factory: Callable[[], Any] | None = None
    resolver: Any = None
    sleep: Callable[[float], None] = time.sleep
    out: Callable[[str], None] = field(default=click.echo)
    automation: Any = None  # pulumi.automation, or a fake of its shape (the game day)
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time  # dates the operator compares with AWS's timestamps

    def session(self):
        if self.session_factory is not None:
            return self.session_factory()
        import boto3

        return boto3.session.Session()

    def dns(self):
        if self.resolver is None:
            from ops.drill import DnsPythonResolver

            self.resolver = DnsPythonResolver()
        return self.resolver


def operator_command(function):
    """One line for every refusal and failure, with its exit status; AWS's own errors too."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        from stack.config import ConfigError

        ctx = click.get_current_context()
        try:
            return function(*args, **kwargs)
        except OperatorError as error:
            _fail(ctx, str(error), error.exit_code)
        except ConfigError as error:
            _fail(ctx, str(error).splitlines()[0], OperatorError.exit_code)
        except NoCredentialsError:
            _fail(
                ctx, "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID for the stack's account", AwsUnavailable.exit_code
            )
        except (ClientError, BotoCoreError) as error:
            _fail(ctx, str(error).splitlines()[0], AwsUnavailable.exit_code)

    return run


def _fail(ctx: click.Context, message: str, code: int) -> None:
    click.echo(f"{ctx.command_path}: {message}", err=True)
    ctx.exit(code)


def _deps(ctx: click.Context) -> Deps:
    return ctx.ensure_object(Deps)


stack_option = click.option(
    "--stack", "-s", envvar="SDR_STACK", required=True, help="The stack (a Pulumi.<stack>.yaml). Env: SDR_STACK."
)
outputs_option = click.option(
    "--outputs",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The stack's outputs as JSON (pulumi stack output --json) instead of asking the Pulumi CLI.",
)
format_option = click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format.")
set_option = click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="A config value (YAML) that the stack file does not have."
)
config_option = click.option(
    "--config", "stack_file", type=click.Path(path_type=Path, dir_okay=False), help="Another stack file for this stack."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="serverless-dr-ops", prog_name="sdr")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Operate a serverless-dr stack: plan and price it offline, check an account before
    deploying, drill failover, move the write primary, restore data, redrive writes.

    \b
    Exit status: 0 done; 1 a check failed (over budget, a blocking finding, a restore that
    does not match); 2 bad input (usage, config, missing stack outputs); 3 refused by a safety
    rule, nothing changed; 4 AWS unreachable or answering with an error.
    Shell completion: eval "$(_SDR_COMPLETE=bash_source sdr)" (zsh_source, fish_source).
    """
    ctx.ensure_object(Deps)


# --- offline: plan, diff, cost, config, layer ------------------------------------------------


@cli.command()
@stack_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid", "components"]), default="text", show_default=True)
@set_option
@config_option
@operator_command
def plan(stack: str, fmt: str, assignments: tuple[str, ...], stack_file: Path | None) -> None:
    """The stack's plan, offline: resources by region and component, outputs, DR budget, cost
    and policy findings (json: the document checks read; mermaid: the data paths).

    \b
    Example:
      sdr plan --stack dr
      sdr plan --stack dr --set 'regions=[us-east-1,eu-west-1]' --format json
    """
    from ops import plan as planning

    click.echo(planning.plan(stack, fmt=fmt, assignments=assignments, stack_file=stack_file), nl=False)


@cli.command()
@click.argument("base")
@stack_option
@format_option
@set_option
@config_option
@operator_command
def diff(base: str, stack: str, fmt: str, assignments: tuple[str, ...], stack_file: Path | None) -> None:
    """What the program changes against BASE (a saved `plan --format json` or a git ref):
    resources added, removed and changed property by property, replacements and their cause,
    the DR budget's and the cost's changes.

    \b
    Example:
      sdr diff origin/main --stack dr
    """
    from ops import plan as planning

    click.echo(planning.plan(stack, fmt=fmt, assignments=assignments, stack_file=stack_file, base=base), nl=False)


@cli.command()
@stack_option
@format_option
@click.option("--page-views-per-day", type=click.FloatRange(min=0), default=1_000_000, show_default=True)
@click.option("--post-reads-per-day", type=click.FloatRange(min=0), default=10_000, show_default=True)
@operator_command
def cost(stack: str, fmt: str, page_views_per_day: float, post_reads_per_day: float) -> None:
    """The stack's monthly cost at zero traffic, line by line, and what traffic adds.

    \b
    Example:
      sdr cost --stack dr --page-views-per-day 50000
    """
    from ops import cost as costing

    click.echo(costing.report(stack, fmt=fmt, page_views_per_day=page_views_per_day, post_reads_per_day=post_reads_per_day))


@cli.command()
@stack_option
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Write one config value into the stack file.")
@click.option("--check", is_flag=True, help="Validate the stack's config as a real preview would.")
@click.option(
    "--file", "path", type=click.Path(path_type=Path, dir_okay=False), help="The stack file (default Pulumi.<stack>.yaml)."
)
@operator_command
def config(stack: str, assignments: tuple[str, ...], check: bool, path: Path | None) -> None:
    """Set values in a stack file, in place, and check it as `pulumi preview` would.

    \b
    Example:
      sdr config --stack dr --set domain=blog.acme.io --check
    """
    from ops import config_file

    for line in config_file.edit(stack, assignments=assignments, check=check, path=path):
        click.echo(line)


@cli.command("deploy-role")
@stack_option
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json", show_default=True)
@operator_command
def deploy_role(stack: str, fmt: str) -> None:
    """The IAM policy the deploying role needs for the stack's planned resources and choices.

    \b
    Example:
      sdr deploy-role --stack dr > deploy-policy.json
    """
    from ops import deploy_role as permissions

    click.echo(permissions.report(stack, fmt=fmt), nl=False)


@cli.command()
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Where to write the layer archive.")
@click.option("--lock", is_flag=True, help="Re-resolve functions/requirements.lock instead of building.")
@operator_command
def layer(output: Path | None, lock: bool) -> None:
    """Build the functions' dependency layer (build/layer.zip), needed before `pulumi up`.

    \b
    Example:
      sdr layer
    """
    from ops import build_layer

    if lock:
        click.echo(build_layer.write_lock())
        return
    path = build_layer.build(output or build_layer.LAYER_ARCHIVE)
    click.echo(f"{path} {path.stat().st_size} bytes")


@cli.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write the package (default clients/python/serverless_dr_client).",
)
@operator_command
def client(output: Path | None) -> None:
    """Generate the API's Python client from its OpenAPI document (openapi-python-client).

    The failover transport beside it (clients/python/serverless_dr_failover.py) makes it try
    every region the stack publishes. make test fails when the committed client is stale.

    \b
    Example:
      sdr client
    """
    from ops import client_sdk

    path = client_sdk.generate(output or client_sdk.OUTPUT)
    click.echo(f"{path} {len(client_sdk.files(path))} modules")


# --- against the account ----------------------------------------------------------------------


@cli.command()
@stack_option
@format_option
@click.pass_context
@operator_command
def preflight(ctx: click.Context, stack: str, fmt: str) -> None:
    """Check the target account before the first deploy: quotas, SES, API Gateway's CloudWatch
    role, names already taken. Exit 1 when a finding blocks the deploy.

    \b
    Example:
      AWS_PROFILE=prod sdr preflight --stack dr
    """
    from dataclasses import asdict

    from ops import preflight as checks

    findings = checks.run(stack, _deps(ctx).session())
    if fmt == "json":
        click.echo(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(finding.line())
    if any(f.blocking and not f.ok for f in findings):
        ctx.exit(CheckFailed.exit_code)


@cli.group()
def drill() -> None:
    """Take a region out of DNS and back without a deploy, time it, move the write primary."""


region_option = click.option("--region", "-r", required=True, help="The region acted on.")


def _session(ctx: click.Context, stack: str, region: str, outputs: Path | None):
    from ops.drill import DrillTarget, Session
    from ops.outputs import load_outputs

    target = DrillTarget.from_outputs(stack, region, load_outputs(stack, outputs))
    return Session(target, _deps(ctx).session())


@drill.command("status")
@stack_option
@region_option
@outputs_option
@format_option
@click.pass_context
@operator_command
def drill_status(ctx: click.Context, stack: str, region: str, outputs: Path | None, fmt: str) -> None:
    """The region's drain flag, its health check as Route 53's checkers see it, the regions the
    zone's name servers answer with, and the write lease (holder, epoch, time left, in-sync set).

    \b
    Example:
      sdr drill status --stack dr --region us-west-2 --format json
    """
    from ops import drill as drills

    report = drills.status(_session(ctx, stack, region, outputs), _deps(ctx).dns())
    click.echo(json.dumps(report, indent=2, sort_keys=True) if fmt == "json" else drills.render_status(report))


def _drain_command(name: str, drain: bool):
    @drill.command(name)
    @stack_option
    @region_option
    @outputs_option
    @click.option("--measure", is_flag=True, help="Poll until the region is out (or back) and report against the budget.")
    @click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
    @click.option("--poll-seconds", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
    @click.option("--timeout-seconds", type=click.FloatRange(min=1), help="Default: 3 x the stack's API RTO budget.")
    @click.pass_context
    @operator_command
    def command(ctx, stack, region, outputs, measure, dry_run, poll_seconds, timeout_seconds):
        from ops import drill as drills

        deps = _deps(ctx)
        within = drills.set_drain(
            _session(ctx, stack, region, outputs),
            deps.dns(),
            drain=drain,
            dry_run=dry_run,
            measure=measure,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            sleep=deps.sleep,
            out=deps.out,
        )
        if not within:
            ctx.exit(CheckFailed.exit_code)

    command.help = (
        "Take the region out of DNS: its drain flag makes /health answer 503. Refused (exit 3) when no other "
        "region would serve. With --measure, exit 1 when it took longer than the budget."
        if drain
        else "Put a drained region back: its drain flag is cleared and /health answers 200 again. With --measure, "
        "exit 1 when it took longer than the budget."
    ) + f"\n\n\b\nExample:\n  sdr drill {name} --stack dr --region us-west-2 --measure"
    if drain:
        command.help += "\n  sdr drill drain --stack dr --region us-west-2 --dry-run"
    return command


_drain_command("drain", True)
_drain_command("restore", False)


@drill.command("promote")
@stack_option
@region_option
@outputs_option
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
@click.option("--force", is_flag=True, help="When the holder cannot be fenced, wait out its lease (up to its length) instead.")
@click.option("--out-of-sync", is_flag=True, help="Accept a region outside the in-sync set: it loses what it lacks.")
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="With a relational global database whose member does not answer: fail it over, losing what had not replicated.",
)
@click.pass_context
@operator_command
def drill_promote(
    ctx: click.Context,
    stack: str,
    region: str,
    outputs: Path | None,
    dry_run: bool,
    force: bool,
    out_of_sync: bool,
    allow_data_loss: bool,
) -> None:
    """Make REGION the primary for writes: fence the lease holder, take the lease on a majority of
    the voters with the next epoch, activate the region. Refused (exit 3, nothing changed) for an
    evacuated, drained or out-of-sync region, without a majority, or when the holder cannot be fenced.

    With a relational global database (relationalDb), its writer moves too: a headless REGION gets
    an instance first (minutes, before anything is fenced), then the switchover runs once the lease
    moved. A member that does not answer needs --allow-data-loss (a failover; the last replication
    lag seen is printed as what may be lost).

    \b
    Example:
      sdr drill promote --stack dr --region us-west-2 --dry-run
      sdr drill promote --stack dr --region us-west-2
      sdr drill promote --stack dr --region us-west-2 --force --allow-data-loss
    """
    from shared import clock

    from ops import promotion
    from ops.database_promotion import GlobalDatabase

    session = _session(ctx, stack, region, outputs)
    report = promotion.promote(
        session.cluster(),
        region,
        now_ms=clock.now_ms,
        sleep=_deps(ctx).sleep,
        force=force,
        out_of_sync=out_of_sync,
        dry_run=dry_run,
        database=GlobalDatabase.from_outputs(session.target.outputs, session.aws),
        allow_data_loss=allow_data_loss,
    )
    for line in report.lines():
        click.echo(line)


@drill.command("scale-containers")
@stack_option
@region_option
@outputs_option
@click.option(
    "--tasks", type=click.IntRange(min=0), help="How many tasks (default: containerMinTasks); 0 scales a standby back down."
)
@click.option("--measure", is_flag=True, help="Wait until that many tasks run and are healthy; time it against the budget.")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--poll-seconds", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option("--timeout-seconds", type=click.FloatRange(min=1), help="Default: 3 x the container scale budget.")
@click.pass_context
@operator_command
def drill_scale_containers(
    ctx: click.Context,
    stack: str,
    region: str,
    outputs: Path | None,
    tasks: int | None,
    measure: bool,
    dry_run: bool,
    poll_seconds: float,
    timeout_seconds: float | None,
) -> None:
    """Scale REGION's containers (containerBackend pilot-light: bring a standby up before or after
    its promotion; failback: --tasks 0 on the old standby). The autoscaling minimum is raised with
    the count, so neither autoscaling nor a later `pulumi up` undoes it. Refused (exit 3) for an
    evacuated or drained region and for a stack without containers; with --measure, exit 1 over budget.

    \b
    Example:
      sdr drill scale-containers --stack dr --region us-west-2 --measure
      sdr drill scale-containers --stack dr --region us-east-1 --tasks 0
    """
    from ops import containers

    session = _session(ctx, stack, region, outputs)
    deps = _deps(ctx)
    target = containers.ContainerTarget.from_outputs(stack, region, session.target.outputs)
    serving = region not in session.target.evacuated and (dry_run or not session.drained(region))
    result = containers.scale_containers(
        target,
        tasks=tasks,
        serving=serving,
        ecs=session.client("ecs", region),
        autoscaling=session.client("application-autoscaling", region),
        elbv2=session.client("elbv2", region),
        now=deps.clock,
        sleep=deps.sleep,
        out=deps.out,
        measure=measure,
        dry_run=dry_run,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    if not result.within_budget:
        ctx.exit(CheckFailed.exit_code)


@cli.command("restore-test")
@stack_option
@click.option("--region", "-r", help="Where to restore (default: the home region).")
@outputs_option
@click.option("--point-in-time", help="ISO-8601 time with zone (default: latest restorable / latest backup).")
@click.option("--from-backup", is_flag=True, help="Restore AWS Backup recovery points instead of PITR and object versions.")
@click.option("--prefix", default="uploads/", show_default=True, help="The media prefix to restore.")
@click.option("--sample", type=click.IntRange(min=1), default=50, show_default=True, help="Items and objects compared by hash.")
@click.option("--keep", is_flag=True, help="Leave the scratch table and bucket (for copy-back).")
@click.option("--timeout-seconds", type=click.FloatRange(min=1), default=4 * 3600.0, show_default=True)
@format_option
@click.pass_context
@operator_command
def restore_test(
    ctx: click.Context,
    stack: str,
    region: str | None,
    outputs: Path | None,
    point_in_time: str | None,
    from_backup: bool,
    prefix: str,
    sample: int,
    keep: bool,
    timeout_seconds: float,
    fmt: str,
) -> None:
    """Restore the table and a media prefix into scratch copies, compare them with the live data,
    print the restore times, delete the copies (unless --keep). Exit 1 when they differ.

    \b
    Example:
      sdr restore-test --stack dr --point-in-time 2026-11-26T08:14:00Z --keep
    """
    from ops import restore_test as restores
    from ops.outputs import load_outputs

    at = restores.parse_time(point_in_time)
    target = restores.RestoreTarget.from_outputs(stack, region, load_outputs(stack, outputs))
    session, deps = _deps(ctx).session(), _deps(ctx)
    test = restores.RestoreTest(
        target=target,
        dynamodb=session.client("dynamodb", region_name=target.region),
        s3=session.client("s3", region_name=target.region),
        backup=session.client("backup", region_name=target.region),
        run_id=time.strftime("%Y%m%d%H%M%S", time.gmtime()),
        clock=restores.Clock(sleep=deps.sleep, timeout_seconds=timeout_seconds),
        out=deps.out,
    )
    results = [test.table(at, from_backup, sample, keep), test.media(prefix, at, from_backup, sample, keep)]
    ok = test.report(results)
    if fmt == "json":
        click.echo(restores.results_json(results))
    if not ok:
        ctx.exit(CheckFailed.exit_code)


@cli.command("copy-back")
@stack_option
@click.option("--scratch-table", required=True, help="The table `restore-test --keep` left.")
@click.option("--region", "-r", help="The region to write (default: the home region; must be the write primary).")
@click.option(
    "--kinds", default="POST", show_default=True, help="Item kinds to copy back, comma-separated (POST, SUB, SUPPRESS)."
)
@click.option("--dry-run", is_flag=True, help="Count what would be written; write nothing.")
@outputs_option
@click.pass_context
@operator_command
def copy_back(
    ctx: click.Context, stack: str, scratch_table: str, region: str | None, kinds: str, dry_run: bool, outputs: Path | None
) -> None:
    """Write user data from a kept scratch table back to the live table: the items that differ
    or are gone. In single-primary mode, only at the write primary.

    \b
    Example:
      sdr copy-back --stack dr --scratch-table app-restore-20261126 --kinds POST --dry-run
    """
    from ops import restore_test as restores
    from ops.outputs import load_outputs

    all_outputs = load_outputs(stack, outputs)
    target = restores.RestoreTarget.from_outputs(stack, region, all_outputs)
    dynamodb = _deps(ctx).session().client("dynamodb", region_name=target.region)
    chosen = tuple(k.strip().upper() for k in kinds.split(",") if k.strip())
    click.echo(restores.copy_back_at_primary(dynamodb, target, all_outputs, scratch_table, chosen, dry_run).line())


@cli.group()
def writes() -> None:
    """Deferred writes that waited past their limit (dead-lettered): list them, redrive them."""


@writes.command("list")
@stack_option
@click.option("--region", "-r", help="The replica to read (default: the home region).")
@outputs_option
@format_option
@click.pass_context
@operator_command
def writes_list(ctx: click.Context, stack: str, region: str | None, outputs: Path | None, fmt: str) -> None:
    """The dead-lettered writes, oldest first: write id, route, when it was accepted, why it died.

    \b
    Example:
      sdr writes list --stack dr
    """
    from ops import redrive

    letters = redrive.DeadLetters.from_outputs(stack, region, outputs, _deps(ctx).session())
    found = letters.list()
    if fmt == "json":
        click.echo(json.dumps([d.to_dict() for d in found], indent=2))
        return
    click.echo(f"{len(found)} dead-lettered write(s) in {letters.region}")
    for letter in found:
        click.echo(letter.line())


@writes.command("redrive")
@stack_option
@click.option("--region", "-r", help="The replica to read (default: the home region).")
@click.option("--write-id", "write_ids", multiple=True, help="Only these writes (default: every dead-lettered one).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@outputs_option
@click.pass_context
@operator_command
def writes_redrive(
    ctx: click.Context, stack: str, region: str | None, write_ids: tuple[str, ...], dry_run: bool, outputs: Path | None
) -> None:
    """Send dead-lettered writes back to their region's write-retry topic: the retry consumer
    applies each (or rejects it with its reason) and replaces its dead-letter record.

    \b
    Example:
      sdr writes redrive --stack dr --dry-run
      sdr writes redrive --stack dr --write-id 3kq2v...
    """
    from ops import redrive

    letters = redrive.DeadLetters.from_outputs(stack, region, outputs, _deps(ctx).session())
    for line in letters.redrive(write_ids=write_ids, dry_run=dry_run):
        click.echo(line)


@cli.group()
def premium() -> None:
    """Paid content (paidContent): publish a post's premium media; rotate the signing key."""


@premium.command("publish")
@stack_option
@click.option("--post", "post_id", required=True, help="The post the media belong to (its id).")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@outputs_option
@click.pass_context
@operator_command
def premium_publish(ctx: click.Context, stack: str, post_id: str, files: tuple[Path, ...], outputs: Path | None) -> None:
    """Upload FILES as the post's premium media, and the index the page reads, to the home
    region's premium bucket (replication copies them to the others). Mark the post premium too
    (the admin view's editor, or PUT /posts/{id} with "premium": true).

    \b
    Example:
      sdr premium publish --stack dr --post 3f2a... film.mp4 poster.jpg
    """
    from ops.premium_media import plan_publication, publish

    publication = plan_publication(stack, outputs, post_id, files)
    for line in publish(publication, _deps(ctx).session()):
        click.echo(line)


@premium.command("rotate")
@stack_option
@click.option(
    "--file", "path", type=click.Path(path_type=Path, dir_okay=False), help="The stack file (default Pulumi.<stack>.yaml)."
)
@click.pass_context
@operator_command
def premium_rotate(ctx: click.Context, stack: str, path: Path | None) -> None:
    """Start a rotation of the media signing key: a new key name first in premiumSigningKeys
    (the next pulumi up generates it and signs with it; the old key stays trusted).

    \b
    Example:
      sdr premium rotate --stack dr && pulumi up --stack dr
    """
    from ops.premium_keys import rotate

    for line in rotate(stack, path, _now(ctx)):
        click.echo(line)


@premium.command("retire")
@stack_option
@click.option(
    "--file", "path", type=click.Path(path_type=Path, dir_okay=False), help="The stack file (default Pulumi.<stack>.yaml)."
)
@outputs_option
@click.pass_context
@operator_command
def premium_retire(ctx: click.Context, stack: str, path: Path | None, outputs: Path | None) -> None:
    """End a rotation: drop the old key name, refused (3) until premiumCookieSeconds have passed
    since the deploy that made the new key sign (the signing-key secret's last change).

    \b
    Example:
      sdr premium retire --stack dr && pulumi up --stack dr
    """
    from ops.premium_keys import retire

    for line in retire(stack, path, outputs, _deps(ctx).session(), _now(ctx)):
        click.echo(line)


def _now(ctx: click.Context):
    import datetime

    return datetime.datetime.fromtimestamp(_deps(ctx).wall_clock(), tz=datetime.UTC)


@cli.group()
def gameday() -> None:
    """Measure the DR budget in your account on a stack made for it, then destroy it."""


@gameday.command("run")
@click.option("--base", default="dr", show_default=True, help="The stack file whose config the game day copies.")
@click.option("--domain", required=True, help="A public Route 53 zone of the account; the stack's names go under it.")
@click.option("--name", help="The stack's name (default gameday-<UTC time>); it must start with gameday-.")
@set_option
@click.option("--yes", is_flag=True, help="Create, change and destroy a whole stack in the account.")
@click.option("--keep", is_flag=True, help="Leave the stack after the run (sdr gameday destroy removes it).")
@click.option(
    "--max-usd", type=click.FloatRange(min=0), default=5.0, show_default=True, help="Refused when the estimate is above."
)
@click.option("--max-minutes", type=click.FloatRange(min=1), default=120.0, show_default=True, help="The whole run's bound.")
@click.option("--writes-per-region", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--no-restore", is_flag=True, help="Skip the table restore (it takes minutes to hours).")
@click.option(
    "--fis-role-arn", help="A role AWS FIS assumes to pause the table's replication (without it, no pause is injected)."
)
@click.option("--pause-seconds", type=click.IntRange(min=60, max=3600), default=120, show_default=True)
@click.option(
    "--grey-failure-seconds",
    type=click.IntRange(min=0, max=3600),
    default=60,
    show_default=True,
    help="How long the home region answers 429 to all but /health (0: skipped).",
)
@format_option
@click.pass_context
@operator_command
def gameday_run(
    ctx,
    base,
    domain,
    name,
    assignments,
    yes,
    keep,
    max_usd,
    max_minutes,
    writes_per_region,
    no_restore,
    fis_role_arn,
    pause_seconds,
    grey_failure_seconds,
    fmt,
):
    """Create an ephemeral stack from --base's config, deploy it, load it, throttle its home
    region's API but /health (a grey failure only clients see), drain the home region, measure
    detection, DNS and write failover, replication lag, lost writes and a restore, print
    each figure against the plan's budget, and destroy the stack (also after a failure or
    Ctrl-C). Exit 1 when a figure is over budget or a step failed.

    \b
    Example:
      sdr gameday run --base dr --domain gameday.example.org --yes --max-usd 3
    """
    import signal

    from ops.drill import DnsPythonResolver
    from ops.gameday.automation import Stacks
    from ops.gameday.measure import Probe
    from ops.gameday.run import GameDay, Options
    from ops.plan import parse_assignments

    def interrupted(_signal, _frame):
        raise KeyboardInterrupt  # a SIGTERM ends the run as Ctrl-C does: with the stack destroyed

    previous = signal.signal(signal.SIGTERM, interrupted)
    deps = _deps(ctx)
    options = Options(
        base=base,
        domain=domain,
        name=name,
        assignments=parse_assignments(list(assignments)),
        yes=yes,
        keep=keep,
        max_usd=max_usd,
        max_minutes=max_minutes,
        writes_per_region=writes_per_region,
        restore=not no_restore,
        fis_role_arn=fis_role_arn,
        pause_seconds=pause_seconds,
        grey_failure_seconds=grey_failure_seconds,
    )
    probe = Probe(deps.session(), deps.resolver or DnsPythonResolver(), deps.clock, deps.sleep)
    stacks = Stacks(deps.automation, out=deps.out)
    try:
        report = GameDay(options, stacks, probe, out=deps.out).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(report.json() if fmt == "json" else report.text())
    if not report.within_budget:
        ctx.exit(CheckFailed.exit_code)


@gameday.command("destroy")
@click.option("--name", required=True, help="A stack a game day created and kept.")
@click.option("--yes", is_flag=True, help="Destroy the stack's resources.")
@click.pass_context
@operator_command
def gameday_destroy(ctx, name, yes):
    """Destroy and remove a stack a game day kept (--keep); any other stack is refused.

    \b
    Example:
      sdr gameday destroy --name gameday-20261205-130000 --yes
    """
    from ops.errors import Refused
    from ops.gameday.automation import Stacks
    from ops.gameday.ephemeral import check_name

    if not yes:
        raise Refused(f"destroying {name} deletes its resources: pass --yes")
    Stacks(_deps(ctx).automation, out=_deps(ctx).out).destroy(check_name(name))
    click.echo(f"{name}: destroyed and removed")


def main() -> None:
    cli(prog_name="sdr", obj=Deps())


if __name__ == "__main__":
    sys.exit(main())
