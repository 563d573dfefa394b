"""Benchmarks: plan cost, region scaling, handler cold-start imports, Lambda artefact sizes.

    python -m verify.bench [--runs 5] [--no-readme]

Every timing is a fresh interpreter (subprocess), repeated `--runs` times: the table shows the
median and the spread (min-max). Writes bench/results.json and bench/results.md and replaces
the table between the bench markers in README.md, so the README always shows the last run.

Targets: offline plan <= 1.5 x the import floor (Python + pulumi + the pulumi_aws service modules
the program uses); handler import <= 1.5 x `import boto3`; code archive <= 256 KB; a constant
number of resources per added region.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from verify.readme import replace_section

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench"
PLAN_FLOOR_RATIO = 1.5
IMPORT_RATIO = 1.5
ARCHIVE_LIMIT = 256 * 1024
SCALING_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"]
HANDLERS = ["api", "retry", "views", "edge_views", "welcome", "bounces", "thumbnails"]
HANDLER_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TABLE_NAME": "t",
    "IDEMPOTENCY_TABLE": "i",
    "ALLOWED_ORIGIN": "https://www.example.com",
}


def timed(code: str, runs: int, env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict[str, float]:
    """Median and spread of a fresh interpreter running `code` (which prints its own seconds)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - started
        reported = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        samples.append(float(reported) if reported.replace(".", "", 1).isdigit() else wall)
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": runs,
    }


def process_seconds(code: str, runs: int, env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time of a whole fresh process (start-up included)."""
    return timed(code + "\n", runs, env)


def service_modules() -> list[str]:
    from ops.offline_run import run_stack

    run = run_stack("dr")
    return sorted({r.type.split(":")[1].split("/")[0] for r in run.resources if r.type.startswith("aws:")})


def bench_plan(runs: int) -> dict[str, Any]:
    services = service_modules()
    touch = "; ".join(f"pulumi_aws.{'lambda_' if s == 'lambda' else s}" for s in services)
    floor = process_seconds(f"import pulumi, pulumi_aws, pulumi_random, yaml; {touch}", runs)
    plans = {}
    for stack in ("dev", "dr"):
        plans[stack] = process_seconds(
            f"import warnings\nwarnings.filterwarnings('ignore')\nfrom ops import plan\nplan.plan('{stack}', fmt='json')",
            runs,
        )
        plans[stack]["ratio_to_floor"] = round(plans[stack]["median_s"] / floor["median_s"], 2)
        plans[stack]["target_met"] = plans[stack]["ratio_to_floor"] <= PLAN_FLOOR_RATIO
    return {"import_floor": floor, "service_modules": services, "stacks": plans, "target_ratio": PLAN_FLOOR_RATIO}


def bench_scaling(runs: int) -> dict[str, Any]:
    from ops.offline_run import run_stack

    rows = []
    for count in (1, 2, 3, 5):
        regions = SCALING_REGIONS[:count]
        samples, resources = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            run = run_stack("dr", overrides={"regions": regions})
            samples.append(time.perf_counter() - started)
            resources = sum(1 for r in run.resources if r.custom)
        rows.append(
            {
                "regions": count,
                "resources": resources,
                "median_s": round(statistics.median(samples), 3),
                "min_s": round(min(samples), 3),
                "max_s": round(max(samples), 3),
            }
        )
    per_region = [(b["resources"] - a["resources"]) / (b["regions"] - a["regions"]) for a, b in itertools.pairwise(rows)]
    seconds_per_region = [
        round((b["median_s"] - a["median_s"]) / (b["regions"] - a["regions"]), 3) for a, b in itertools.pairwise(rows)
    ]
    # Going from 1 to 2 regions also switches on the home region's own replication (role, policy,
    # configuration): a one-off step. From 2 regions on every region adds the same set.
    one_off = per_region[0] - per_region[1] if len(per_region) > 1 else 0
    return {
        "rows": rows,
        "resources_per_added_region": per_region,
        "seconds_per_added_region": seconds_per_region,
        "one_off_resources_at_second_region": one_off,
        "constant_resources_per_region": len(set(per_region[1:])) == 1,
    }


def import_facts(package: str) -> dict[str, Any]:
    """What a handler module builds at import: AWS clients (should be none) and Powertools objects."""
    code = (
        "import sys, json; sys.path.insert(0, 'functions')\n"
        f"import {package}.app as m\n"
        "from shared import aws\n"
        "kinds = sorted({type(v).__name__ for v in vars(m).values() if type(v).__module__.startswith('aws_lambda_powertools')})\n"
        "print(json.dumps({'clients_at_import': aws._client.cache_info().currsize + aws._table.cache_info().currsize, 'powertools_objects': kinds}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **HANDLER_ENV}, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_cold_start(runs: int) -> dict[str, Any]:
    measure = "import time, sys; sys.path.insert(0, 'functions'); t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    boto3 = timed(measure.format(module="boto3"), runs, HANDLER_ENV)
    handlers = {}
    for package in HANDLERS:
        result = timed(measure.format(module=f"{package}.app"), runs, HANDLER_ENV)
        result["ratio_to_boto3"] = round(result["median_s"] / boto3["median_s"], 2)
        result["target_met"] = result["ratio_to_boto3"] <= IMPORT_RATIO
        result.update(import_facts(package))
        handlers[package] = result
    return {"boto3": boto3, "handlers": handlers, "target_ratio": IMPORT_RATIO}


def bench_artefacts() -> dict[str, Any]:
    from stack.packaging import LAYER_ARCHIVE, code_archive

    archives = {}
    for package in HANDLERS:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, asset in sorted(code_archive(package).assets.items()):
                archive.write(asset.path, name)
        archives[package] = {"bytes": buffer.tell(), "target_met": buffer.tell() <= ARCHIVE_LIMIT}
    layer: dict[str, Any] = {"path": str(LAYER_ARCHIVE.relative_to(ROOT))}
    if not LAYER_ARCHIVE.exists():
        try:
            from ops.build_layer import build

            build(LAYER_ARCHIVE)
        except (subprocess.CalledProcessError, OSError) as error:
            layer["error"] = f"layer not built: {error}"
    if LAYER_ARCHIVE.exists():
        with zipfile.ZipFile(LAYER_ARCHIVE) as archive:
            layer["bytes"] = LAYER_ARCHIVE.stat().st_size
            layer["unzipped_bytes"] = sum(i.file_size for i in archive.infolist())
            layer["within_lambda_limit"] = layer["unzipped_bytes"] <= 250 * 1024 * 1024
    return {"code_archives": archives, "layer": layer, "archive_limit_bytes": ARCHIVE_LIMIT}


# The idle-cost goals of the shipped stacks (zero traffic, list prices, no free tier).
COST_GOALS = {"dev": 1.00, "dr": 15.00}
TRAFFIC = {"page_views_per_day": 1_000_000, "post_reads_per_day": 10_000}
# What serving that month may cost in dr (issue #30): per million page views (site page
# requests included) and post reads, and the month itself.
TRAFFIC_GOALS = {"dr": {"page_views_per_million": 1.50, "post_reads_per_million": 1.50, "month_usd": 70.00}}


def bench_cost() -> dict[str, Any]:
    """The cost model over the shipped stacks: idle cost against the goals, and a month of traffic."""
    from ops.cost import idle_monthly, per_million, price_table, traffic_monthly
    from ops.offline_run import run_stack

    stacks = {}
    for stack, goal in COST_GOALS.items():
        run = run_stack(stack)
        idle = idle_monthly(run)
        stacks[stack] = {"idle_usd": idle, "goal_usd": goal, "target_met": idle <= goal, **traffic_monthly(run, **TRAFFIC)}
        unit = per_million(run)
        stacks[stack]["page_views_per_million"] = round(unit["page_views"], 2)
        stacks[stack]["post_reads_per_million"] = round(unit["post_reads"], 2)
        if stack in TRAFFIC_GOALS:
            goals = TRAFFIC_GOALS[stack]
            stacks[stack]["traffic_goals"] = {
                name: {"goal": limit, "value": stacks[stack]["total_usd" if name == "month_usd" else name]}
                for name, limit in goals.items()
            }
    return {"stacks": stacks, "traffic": TRAFFIC, "price_table_version": price_table()["version"]}


TEST_SUITE_TARGET_SECONDS = 90


def bench_test_suite() -> dict[str, Any]:
    """`make test`'s pytest run (what CI waits for), once: wall time, tests, and whether it left
    the checkout as it found it."""
    before = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "auto", "--dist", "worksteal", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = round(time.perf_counter() - started, 1)
    after = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    summary = (run.stdout.strip().splitlines() or [""])[-1]
    return {
        "seconds": seconds,
        "summary": summary.strip("= "),
        "passed": run.returncode == 0,
        "tracked_files_untouched": before == after,
        "target_seconds": TEST_SUITE_TARGET_SECONDS,
        "target_met": run.returncode == 0 and seconds <= TEST_SUITE_TARGET_SECONDS,
    }


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")), ""
        )
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(), "cpu_model": model}


def _kb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024:.0f} KB" if value < 1024 * 1024 else f"{value / 1024 / 1024:.1f} MB"


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def render_markdown(results: dict[str, Any]) -> str:
    m, plan, scaling, cold, art = (
        results["machine"],
        results["plan"],
        results["scaling"],
        results["cold_start"],
        results["artefacts"],
    )
    cost = results.get("cost")
    suite = results.get("test_suite")
    lines = [
        f"Measured {results['measured_at']} on {m['cpus']} CPU(s) ({m['cpu_model'] or 'unknown CPU'}), Python {m['python']}, "
        f"{results['runs']} runs each (median, min-max).",
        "",
        "| measure | median | spread | against | target |",
        "|---|---|---|---|---|",
        f"| import floor (python + pulumi + {len(plan['service_modules'])} pulumi_aws modules) | {plan['import_floor']['median_s']} s | "
        f"{plan['import_floor']['min_s']}-{plan['import_floor']['max_s']} s | | |",
    ]
    for stack, row in plan["stacks"].items():
        lines.append(
            f"| offline plan `{stack}` | {row['median_s']} s | {row['min_s']}-{row['max_s']} s | {row['ratio_to_floor']} x floor | "
            f"<= {plan['target_ratio']} x: {_ok(row['target_met'])} |"
        )
    for row in scaling["rows"]:
        lines.append(
            f"| dr with {row['regions']} region(s): {row['resources']} resources | {row['median_s']} s | {row['min_s']}-{row['max_s']} s | | |"
        )
    lines.append(
        f"| resources per added region (1->2, 2->3, 3->5) | {', '.join(f'{v:g}' for v in scaling['resources_per_added_region'])} | | "
        f"{', '.join(f'{v} s' for v in scaling['seconds_per_added_region'])} per region | constant from 2 regions on "
        f"(+{scaling['one_off_resources_at_second_region']:g} once: home-region replication): {_ok(scaling['constant_resources_per_region'])} |"
    )
    lines.append(f"| `import boto3` | {cold['boto3']['median_s']} s | {cold['boto3']['min_s']}-{cold['boto3']['max_s']} s | | |")
    for name, row in cold["handlers"].items():
        lines.append(
            f"| import `{name}.app` ({row['clients_at_import']} clients at import) | {row['median_s']} s | {row['min_s']}-{row['max_s']} s | "
            f"{row['ratio_to_boto3']} x boto3 | <= {cold['target_ratio']} x: {_ok(row['target_met'])} |"
        )
    for name, row in art["code_archives"].items():
        lines.append(f"| code archive `{name}` | {_kb(row['bytes'])} | | | <= 256 KB: {_ok(row['target_met'])} |")
    layer = art["layer"]
    lines.append(
        f"| dependency layer | {_kb(layer.get('bytes'))} zipped, {_kb(layer.get('unzipped_bytes'))} unzipped | | | "
        f"{'<= 250 MB unzipped: ' + _ok(layer['within_lambda_limit']) if 'within_lambda_limit' in layer else layer.get('error', '')} |"
    )
    if suite:
        clean = "git status unchanged" if suite["tracked_files_untouched"] else "**changed tracked files**"
        lines.append(
            f"| `make test` (pytest, {m['cpus']} workers): {suite['summary']} | {suite['seconds']} s | | {clean} | "
            f"<= {suite['target_seconds']} s: {_ok(suite['target_met'])} |"
        )
    if cost:
        traffic = cost["traffic"]
        for stack, row in cost["stacks"].items():
            lines.append(
                f"| `{stack}` at zero traffic (list prices {cost['price_table_version']}) | ${row['idle_usd']:.2f}/month | | | "
                f"<= ${row['goal_usd']:.2f}: {_ok(row['target_met'])} |"
            )
            goals = row.get("traffic_goals") or {}
            month_goal = goals.get("month_usd")
            lines.append(
                f"| `{stack}` with {traffic['page_views_per_day']:,} page views + {traffic['post_reads_per_day']:,} post reads a day "
                f"| ${row['total_usd']:.2f}/month | | views ${row['page_views_usd']:.2f}, reads ${row['post_reads_usd']:.2f}, "
                f"standing ${row['idle_usd']:.2f} | "
                + (f"<= ${month_goal['goal']:.2f}: {_ok(month_goal['value'] <= month_goal['goal'])} |" if month_goal else "|")
            )
            for name, label in (
                ("page_views_per_million", "a million page views"),
                ("post_reads_per_million", "a million post reads"),
            ):
                if name in goals:
                    goal = goals[name]
                    lines.append(
                        f"| `{stack}`: {label}, in that month | ${goal['value']:.2f} | | | "
                        f"<= ${goal['goal']:.2f}: {_ok(goal['value'] <= goal['goal'])} |"
                    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README table")
    parser.add_argument("--no-test-suite", action="store_true", help="do not time the test suite")
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    results = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "machine": machine(),
        "plan": bench_plan(args.runs),
        "scaling": bench_scaling(max(2, args.runs // 2)),
        "cold_start": bench_cold_start(args.runs),
        "artefacts": bench_artefacts(),
        "cost": bench_cost(),
    }
    if not args.no_test_suite:
        results["test_suite"] = bench_test_suite()
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    table = render_markdown(results)
    (OUT / "results.md").write_text(table)
    if not args.no_readme:
        replace_section("bench", table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
