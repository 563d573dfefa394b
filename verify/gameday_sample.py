"""Write the sample report of docs/gameday.md: the game day run against the stubbed account of
verify/gameday_world.py (`make gameday-sample`; tests/ops/test_gameday.py checks it is current)."""

from __future__ import annotations

import re
from pathlib import Path

from verify.gameday_world import World

DOC = Path(__file__).resolve().parents[1] / "docs" / "gameday.md"
BLOCK = re.compile(r"(<!-- sample:begin -->\n```text\n)(.*?)(```\n<!-- sample:end -->)", re.S)


def main() -> None:
    text = World().sample_report()
    doc = DOC.read_text()
    if not BLOCK.search(doc):
        raise SystemExit(f"{DOC}: no sample block (<!-- sample:begin --> ... <!-- sample:end -->)")
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + text + m.group(3), doc))
    print(f"wrote the sample report into {DOC.name}")


if __name__ == "__main__":
    main()
