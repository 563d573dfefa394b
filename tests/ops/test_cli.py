"""`sdr`, the operator command: every command documents itself with an example, errors are one
line with their documented exit status, and the commands that act on a stack do so end to end
against moto (a dead-lettered write redriven and applied; the write primary moved)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ops.cli import cli
from tests.helpers import sdr

ROOT = Path(__file__).resolve().parents[2]


def every_command(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
        else:
            found.append((*path, name))
    return found


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = sdr(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"sdr {' '.join(command)}" in result.stdout.split("Example:", 1)[1]


def test_the_top_level_help_lists_the_exit_statuses_and_every_command():
    result = sdr("--help")
    assert result.exit_code == 0
    for code in ("0 done", "1 a check failed", "2 bad input", "3 refused", "4 AWS unreachable"):
        assert code in result.stdout
    assert {c[0] for c in every_command()} <= set(result.stdout.split())


def test_python_dash_m_ops_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "ops", "drill", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "Usage: sdr drill" in result.stdout and "promote" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("plan", "--stack", "prod"), 2, "sdr plan: no stack file Pulumi.prod.yaml"),
        (("plan",), 2, "Missing option '--stack'"),
        (("drill", "status", "--stack", "dr", "--region", "us-east-1", "--outputs", "/nonexistent.json"), 2, "no such file"),
        (("cost", "--stack", "dr", "--page-views-per-day", "-5"), 2, "Invalid value for '--page-views-per-day'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, code, message):
    result = sdr(*args)
    assert result.exit_code == code and message in result.stderr and "Traceback" not in result.stderr
    if "Missing option" not in message and "Invalid value" not in message:
        assert result.stderr.count("\n") == 1


# --- writes: list and redrive, end to end against moto ---------------------------------------------


@pytest.fixture
def dead_lettered(tmp_path):
    """One subscription deferred, then refused by the table: dead-lettered with its intent."""
    from moto import mock_aws

    from verify.faults import FaultInjector, Rule, VirtualClock, injected
    from verify.harness import call_api, configure, drain_queue, make_regional_resources, reset_handler_state

    configure()
    with mock_aws():
        reset_handler_state()
        regional = make_regional_resources()
        from retry.app import handler

        with injected(FaultInjector(VirtualClock(), seed=3)) as faults:
            faults.rules = [Rule(fault="throttle")]
            status, body, _ = call_api("POST", "/subscribers", body={"email": "late@example.com"})
            assert status == 202
            faults.rules = [Rule(fault="validation", operations=frozenset({"TransactWriteItems"}))]
            drain_queue(regional.sqs, regional.retry_queue_url, handler)
        outputs = tmp_path / "outputs.json"
        outputs.write_text(
            json.dumps(
                {
                    "tableName": "app-table",
                    "regions": ["us-east-1"],
                    "homeRegion": "us-east-1",
                    "writeRetryTopics": {"us-east-1": regional.topic_arn},
                }
            )
        )
        yield regional, body["write_id"], outputs
        reset_handler_state()


def test_a_dead_lettered_write_is_listed_redriven_and_applied(dead_lettered):
    import boto3
    from retry.app import handler

    from verify.harness import call_api, drain_queue, queue_depth

    regional, write_id, outputs = dead_lettered
    where = ("--stack", "dev", "--outputs", str(outputs))
    listed = sdr("writes", "list", *where, "--format", "json", session_factory=boto3.session.Session)
    [letter] = json.loads(listed.stdout)
    assert letter["write_id"] == write_id.split(".")[0] and "the table refuses it" in letter["reason"]

    dry = sdr("writes", "redrive", *where, "--dry-run", session_factory=boto3.session.Session)
    assert dry.exit_code == 0 and dry.stdout.splitlines()[-1] == "would redrive 1 dead-lettered write(s)"
    assert queue_depth(regional.sqs, regional.retry_queue_url) == 0  # a dry run sends nothing

    done = sdr("writes", "redrive", *where, session_factory=boto3.session.Session)
    assert done.exit_code == 0 and "sent " in done.stdout
    drain_queue(regional.sqs, regional.retry_queue_url, handler)
    fate = call_api("GET", f"/writes/{write_id}")[1]
    assert fate["state"] == "applied" and fate["status"] == 201
    assert json.loads(sdr("writes", "list", *where, "--format", "json", session_factory=boto3.session.Session).stdout) == []


def test_redriving_a_write_that_is_not_dead_lettered_is_refused_and_sends_nothing(dead_lettered):
    import boto3

    from verify.harness import queue_depth

    regional, _write_id, outputs = dead_lettered
    result = sdr(
        "writes", "redrive", "--stack", "dev", "--outputs", str(outputs), "--write-id", "nosuchwrite",
        session_factory=boto3.session.Session,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == "sdr writes redrive: not dead-lettered in us-east-1's replica: nosuchwrite (sdr writes list)\n"
    assert queue_depth(regional.sqs, regional.retry_queue_url) == 0


# --- drill promote and status, against the two-region simulation's voters -------------------------


def test_promote_moves_the_lease_and_status_shows_it(tmp_path):
    import boto3

    from verify import two_region_sim as sim_module

    with sim_module.world(lag=0.5, seed=31) as sim:
        old, new = sim_module.REGIONS
        outputs = tmp_path / "outputs.json"
        outputs.write_text(
            json.dumps(
                {
                    "tableName": sim_module.TABLE,
                    "regions": list(sim_module.REGIONS),
                    "homeRegion": old,
                    "writeMode": "single-primary",
                    "leaseVoterTables": sim_module.VOTERS,
                    "leaseSeconds": sim_module.LEASE_SECONDS,
                    "drainParameters": {r: "/serverless-dr/test/drain" for r in sim_module.REGIONS},
                }
            )
        )
        where = ("--stack", "dr", "--region", new, "--outputs", str(outputs))
        dry = sdr("drill", "promote", *where, "--dry-run", session_factory=boto3.session.Session, sleep=sim.advance)
        assert dry.exit_code == 0, dry.stderr
        assert dry.stdout.startswith(f"would promote {new} to primary at epoch 2 (was {old} at epoch 1)")

        done = sdr("drill", "promote", *where, session_factory=boto3.session.Session, sleep=sim.advance)
        assert done.exit_code == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"promoted {new} to primary at epoch 2 (was {old} at epoch 1)",
            f"  old primary {old}: fenced first (its control item revoked)",
        ]
        again = sdr("drill", "promote", *where, session_factory=boto3.session.Session, sleep=sim.advance)
        assert again.exit_code == 3 and again.stderr == f"sdr drill promote: {new} is already primary at epoch 2\n"

        sim.converge()
        status = sdr("drill", "status", *where, "--format", "json", session_factory=boto3.session.Session, resolver=object())
        lease = json.loads(status.stdout)["write_lease"]
        assert (lease["holder"], lease["epoch"], lease["voters_answering"]) == (new, 2, "3 of 3")
        assert {r: (c["primary"], c["epoch"], c["revoked"]) for r, c in lease["replicas"].items()} == {
            old: (new, 2, False),
            new: (new, 2, False),
        }
