"""The game day's orchestration against a fake Automation API, Stubber-answered AWS clients and a
fake API (verify/gameday_world.py): the order of its steps, the stack destroyed after a failure at
any of them, its refusals, and the report's arithmetic."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from ops.gameday.measure import Probe
from tests.helpers import sdr
from verify.gameday_world import NOW, ROLE, STEPS, STEPS_WITH_PAUSE, Timeline, World

ROOT = Path(__file__).resolve().parents[2]
POLL = Probe.poll_seconds  # the drain's polls: what the run can see, to the poll


def seen_after(seconds: float) -> float:
    return math.ceil(seconds / POLL) * POLL


def figures(report) -> dict[str, tuple[float | None, float | None, str]]:
    return {f.name: (f.measured, f.budget, f.result) for f in report.figures}


def test_a_run_creates_deploys_measures_and_destroys_in_order_and_makes_every_expected_call():
    world = World()
    report = world.game_day(writes_per_region=3).run()
    assert world.events == [
        "step create", "create", "save settings", "tag sdr:gameday",
        "step up", "up",
        "step health", "step load", "step replication",
        "step grey-failure", "home stage throttle 0", "home stage throttle 100.0",
        "step failover", "drain flag true", "drain flag false",
        "step read-back", "step restore",
        "step destroy", "destroy", "remove",
    ]  # fmt: skip
    assert world.pending() == {}  # every stubbed AWS answer was asked for
    assert not any(service == "fis" for service, _ in world.clients)  # no role, no experiment
    assert report.steps == list(STEPS) and report.failed_step is None and report.destroyed
    home, other = world.outputs["homeRegion"], world.outputs["regions"][1]
    budget = world.outputs["drBudget"]
    t, found = world.timeline, figures(report)
    assert found[f"health check detects {home} drained"] == (seen_after(t.detection), budget["detection_seconds"], "within")
    assert found[f"DNS answers without {home}"][:2] == (seen_after(t.dns), budget["api_rto_seconds"])
    write_rto = budget["write_failover"]["write_rto_seconds"]
    assert found["writes fail over without an operator"][:2] == (seen_after(t.write_failover), write_rto)
    assert found[f"replication lag {home} -> {other}"][0] == pytest.approx(t.replication_lag)
    assert found["table restore (PITR) usable after"][0] == t.restore_seconds
    assert found[f"writes the failover client gave up on while {home} answered 429"] == (0, 0, "within")
    grey = [f for f in report.figures if f.name.startswith("slowest of")]
    assert grey and grey[0].name.startswith(f"slowest of {math.ceil(60 / POLL)} writes")
    assert found[f"acknowledged writes lost (of {len(world.posts)})"] == (0, 0, "within")
    assert report.within_budget


def test_with_a_fis_role_replication_is_paused_by_an_experiment_of_the_runs_own_and_writes_go_on():
    world = World()
    game_day = world.game_day(writes_per_region=2, fis_role_arn=ROLE, pause_seconds=60)
    report = game_day.run()
    assert report.steps == list(STEPS_WITH_PAUSE) and report.within_budget
    at = world.events.index("step replication-pause")
    assert world.events[at : at + 3] == ["step replication-pause", "replication paused", "step failover"]
    assert world.pending() == {}  # the template was created, the experiment followed to its end, the template deleted
    home, found = world.outputs["homeRegion"], figures(report)
    assert found[f"replication paused from {home} (AWS FIS, completed)"][0] == seen_after(60)
    assert found["writes acknowledged during the pause"][0] == seen_after(60) / POLL  # one a poll while it runs
    assert found["those writes in every region after the pause"][0] == pytest.approx(world.timeline.replication_lag)
    from ops import cost
    from ops.gameday.run import HOURS_A_MONTH, offline_plan

    planned, traffic = offline_plan(report.stack, world.settings), game_day.traffic
    without_fis = cost.idle_monthly(planned) * world.clock() / 3600 / HOURS_A_MONTH + cost.api_load_cost(
        planned, reads=traffic.reads, writes=len(traffic.writes)
    )
    spent = next(f for f in report.figures if f.name == "cost of the run").measured
    assert spent == pytest.approx(without_fis + 1 * cost.price("fis_action_minute"), abs=1e-4)  # one action-minute


@pytest.mark.parametrize("step", [s for s in STEPS_WITH_PAUSE if s != "destroy"] + ["interrupt:up", "interrupt:load"])
def test_a_failure_at_any_step_still_destroys_what_was_created(step):
    world = World(fail_at=step)
    report = world.game_day(writes_per_region=2, fis_role_arn=ROLE, pause_seconds=60).run()
    name = step.removeprefix("interrupt:")
    assert report.failed_step == name and not report.within_budget
    assert report.error
    if name == "create":  # nothing was created: nothing to destroy
        assert "destroy" not in world.events and report.destroyed is None
    else:
        assert world.events[-2:] == ["destroy", "remove"] and report.destroyed and not world.stacks
    if "drain flag true" in world.events or name == "failover":
        assert world.events.count("drain flag false") == 1  # the home region is never left drained
    assert report.steps == list(STEPS_WITH_PAUSE[: STEPS_WITH_PAUSE.index(name)]) + (["destroy"] if name != "create" else [])
    if name == "replication-pause":
        assert world.pending() == {}  # the experiment never started, and its template was deleted


def test_a_failed_destroy_is_reported_with_the_command_that_finishes_it():
    world = World(fail_at="destroy")
    report = world.game_day(writes_per_region=1).run()
    assert report.destroyed is False and report.failed_step == "destroy" and not report.within_budget
    assert f"KEPT (sdr gameday destroy --name {report.stack})" in report.text()


def test_keep_leaves_the_stack_and_destroy_removes_only_a_game_days_stack():
    world = World()
    report = world.game_day(writes_per_region=1, keep=True).run()
    assert "destroy" not in world.events and report.stack in world.stacks
    refused = sdr("gameday", "destroy", "--name", "dr", "--yes", automation=world.automation())
    assert refused.exit_code == 3 and "not a game-day stack" in refused.stderr
    unmarked = World()
    unmarked.stacks.add("gameday-by-hand")
    refused = sdr("gameday", "destroy", "--name", "gameday-by-hand", "--yes", automation=unmarked.automation())
    assert refused.exit_code == 3 and "was not created by a game day" in refused.stderr
    assert "destroy" not in unmarked.events
    done = sdr("gameday", "destroy", "--name", report.stack, "--yes", automation=world.automation())
    assert done.exit_code == 0, done.stderr
    assert world.events[-2:] == ["destroy", "remove"] and not world.stacks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "pass --yes"),
        (("--yes", "--name", "dr"), "not a game-day stack"),
        (("--yes", "--name", "gameday-20261205-130000", "--max-usd", "0.001"), "over --max-usd"),
        (("--yes", "--set", "deletionProtection=true"), "deletionProtection=true"),
        (("--yes", "--set", "backupVaultLock=true"), "backupVaultLock=true"),
        (("--yes", "--set", "healthCheckFailureThreshold=0"), "healthCheckFailureThreshold"),
    ],
)
def test_refusals_are_one_line_exit_3_and_touch_nothing(args, message):
    world = World()
    result = sdr("gameday", "run", "--domain", "gameday.acme.io", *args, automation=world.automation(), clock=world.clock)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert world.events == [] and not world.stacks


def test_a_malformed_fis_role_is_bad_input_before_anything_happens():
    world = World()
    result = sdr(
        "gameday", "run", "--domain", "gameday.acme.io", "--yes", "--fis-role-arn", "gameday-fis", automation=world.automation()
    )
    assert result.exit_code == 2 and "--fis-role-arn: 'gameday-fis' is not an IAM role ARN" in result.stderr
    assert world.events == []


def test_a_stack_of_the_same_name_is_never_taken_over():
    world = World()
    world.stacks.add("gameday-20261205-130000")
    with pytest.raises(Exception, match="exists: a game day only runs on a stack it creates"):
        world.game_day().run()
    assert world.events == []


def test_figures_over_their_budget_and_lost_writes_fail_the_run():
    world = World(timeline=Timeline(dns=200.0, lost_writes=2))
    report = world.game_day(writes_per_region=2).run()
    found = figures(report)
    home = world.outputs["homeRegion"]
    assert found[f"DNS answers without {home}"][2] == "OVER"
    lost = next(v for k, v in found.items() if k.startswith("acknowledged writes lost"))
    assert lost == (2, 0, "OVER")
    assert not report.within_budget and report.destroyed
    assert sum(note.startswith("lost: post") for note in report.notes) == 2 * len(world.outputs["regions"])


def test_the_cost_of_the_run_is_the_standing_cost_for_its_hours_and_its_requests():
    from ops import cost
    from ops.gameday.run import HOURS_A_MONTH, offline_plan

    world = World()
    game_day = world.game_day(writes_per_region=1)
    report = game_day.run()
    planned = offline_plan(report.stack, world.settings)
    traffic = game_day.traffic
    hours = world.clock() / 3600  # the run started at the fake clock's zero
    expected = cost.idle_monthly(planned) * hours / HOURS_A_MONTH + cost.api_load_cost(
        planned, reads=traffic.reads, writes=len(traffic.writes)
    )
    spent = next(f for f in report.figures if f.name == "cost of the run")
    assert spent.measured == pytest.approx(expected, abs=1e-4) and spent.budget == 5.0
    assert 0 < spent.measured < report.estimate_usd  # the estimate bounds the run by --max-minutes


def test_the_sample_report_in_the_docs_is_what_the_stubbed_run_prints():
    doc = (ROOT / "docs" / "gameday.md").read_text()
    sample = re.search(r"<!-- sample:begin -->\n```text\n(.*?)```\n<!-- sample:end -->", doc, re.S)
    assert sample, "docs/gameday.md has no sample block"
    assert World().sample_report() == sample.group(1), "regenerate with: make gameday-sample"
    assert NOW.strftime("%Y%m%d") in sample.group(1)
