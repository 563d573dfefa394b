"""Which writes made an item what it is: its last LINEAGE_LENGTH (version, write id) pairs.

A write's request record says it was applied, at a version. After a failover that is not always
the truth of the item: a write the old primary applied but never got acknowledged by the in-sync
regions (shared/confirm.py) can lose its item to a write the new primary applied at the same
version, while its record, which no later write touched, replicates in untouched. So whoever
reports or replays a write checks its record against the item's lineage:
- `held`: the item was at that version by that write (the lineage says so), or has moved past a
  version the lineage no longer lists (it is longer than LINEAGE_LENGTH writes back);
- `superseded`: another write made that version: this one was overwritten before it counted;
- `behind`: the item has not reached that version here yet (replication, or never applied).
"""

from __future__ import annotations

from typing import Any, Literal

ATTRIBUTE = "lineage"
LINEAGE_LENGTH = 16

Verdict = Literal["held", "superseded", "behind"]


def entry(version: int, write_id: str) -> str:
    return f"{version}:{write_id}"


def extended(current: dict[str, Any] | None, version: int, write_id: str) -> list[str]:
    """The lineage an item gets when `write_id` writes `version` over `current`."""
    previous = list((current or {}).get(ATTRIBUTE) or [])
    return [*previous, entry(version, write_id)][-LINEAGE_LENGTH:]


def made_by(item: dict[str, Any] | None, version: int, write_id: str) -> bool:
    """Whether the item's lineage says `write_id` made `version` of it (however far it moved on)."""
    return entry(version, write_id) in [str(e) for e in (item or {}).get(ATTRIBUTE) or []]


def verdict(item: dict[str, Any] | None, version: int, write_id: str) -> Verdict:
    if not item or int(item.get("version", 0)) < version:
        return "behind"
    for recorded in item.get(ATTRIBUTE) or []:
        at, _, writer = str(recorded).partition(":")
        if int(at) == version:
            return "held" if writer == write_id else "superseded"
    if int(item.get("version", 0)) == version:
        return "held" if item.get("write_id") == write_id else "superseded"
    return "held"  # moved on past what the lineage remembers
