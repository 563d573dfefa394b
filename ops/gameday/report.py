"""The game day's report: each measured figure beside the budget the plan computed for the same
config, and what the run cost."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    name: str
    measured: float | None  # None: not measured (the step failed, timed out or was skipped)
    budget: float | None = None  # None: the plan states no number for it
    unit: str = "s"

    @property
    def result(self) -> str:
        if self.measured is None:
            return "NOT MEASURED"
        if self.budget is None:
            return "-"
        return "within" if self.measured <= self.budget else "OVER"

    def cells(self) -> tuple[str, str, str, str]:
        return (self.name, _value(self.measured, self.unit), _value(self.budget, self.unit), self.result)


@dataclass
class Report:
    stack: str
    base: str
    regions: list[str]
    estimate_usd: float
    max_usd: float
    figures: list[Figure] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # the steps that ran to their end, in order
    failed_step: str | None = None
    error: str | None = None
    destroyed: bool | None = None  # None: kept (--keep) or nothing was created
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, measured: float | None, budget: float | None = None, unit: str = "s") -> None:
        self.figures.append(Figure(name, None if measured is None else round(float(measured), 4), budget, unit))

    @property
    def within_budget(self) -> bool:
        return self.failed_step is None and all(f.result != "OVER" for f in self.figures)

    def text(self) -> str:
        rows = [("figure", "measured", "budget", "result"), *(f.cells() for f in self.figures)]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"game day {self.stack} (config of {self.base}; regions {', '.join(self.regions)})"]
        lines.append(f"  estimated ${self.estimate_usd:.2f} (refused above ${self.max_usd:.2f})")
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.append(f"  steps: {' -> '.join(self.steps) or 'none'}")
        if self.failed_step:
            lines.append(f"  FAILED at {self.failed_step}: {self.error}")
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(
            "  stack: " + ("destroyed and removed" if self.destroyed else "KEPT (sdr gameday destroy --name " + self.stack + ")")
        )
        lines.append(f"  result: {'within budget' if self.within_budget else 'NOT within budget'}")
        return "\n".join(lines)

    def json(self) -> str:
        return json.dumps({**asdict(self), "within_budget": self.within_budget}, indent=2)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "usd":
        return f"${value:.2f}"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:g}{(' ' + unit) if unit else ''}"


def budget_figures(budget: dict[str, Any]) -> dict[str, float | None]:
    """The plan's numbers a game day measures against (drBudget output)."""
    write = budget.get("write_failover") or {}
    return {
        "detection": budget.get("detection_seconds"),
        "dns": budget.get("api_rto_seconds"),
        "write_failover": write.get("write_rto_seconds") if write.get("without_an_operator") else None,
        # The table's RPO for acknowledged writes is 0 when each is confirmed everywhere first.
        "lost_writes": 0 if str((budget.get("rpo") or {}).get("table", "")).startswith("0 s") else None,
        "edge_failover": (budget.get("edge_reads") or {}).get("failover_refused_seconds"),
    }
