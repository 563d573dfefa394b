"""The browser outage figures: what the reader waits when the region the page uses goes away.

    python -m verify.browser_outage [--trials 20] [--readme]

Runs the outage tests of tests/site (Playwright, Debian's Chromium, two local regions) with
`--trials` per kind of outage, reads the figures they record in build/browser-outage/, prints the
table and, with --readme, replaces the `browser-outage` section of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from verify.readme import replace_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "build" / "browser-outage"
# What happens to the region the page is using, per kind of outage.
HOW = {
    "killed": "its endpoint refuses connections",
    "stalled": "it accepts requests and never answers",
    "answers-lost": "it applies writes and never answers",
    "failing": "it answers 503 to everything",
    "throttled": "it answers 429 with Retry-After to everything",
    "loses-accepted": "it answers writes 202 and then loses them",
}


def render(rows: list[dict]) -> str:
    lines = [
        "| the answering region... | trials | a read first: median (max) | a write first: median (max) | writes applied twice | writes lost |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {HOW[row['how']]} | {row['trials']} | {row['first_read_median_s']:.2f} s ({row['first_read_max_s']:.2f} s) | "
            f"{row['first_write_median_s']:.2f} s ({row['first_write_max_s']:.2f} s) | {row['writes_applied_twice']} | "
            f"{row['writes_lost']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.browser_outage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    env = {**os.environ, "OUTAGE_TRIALS": str(args.trials), "OUTAGE_KINDS": ",".join(HOW)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/site/test_front_end.py",
        "-k",
        "answering_region",
    ]
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
        return 1
    rows = [json.loads((RESULTS / f"{kind}.json").read_text()) for kind in HOW]
    table = render(rows)
    sys.stdout.write(table)
    if args.readme:
        replace_section("browser-outage", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
