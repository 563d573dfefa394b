"""The project file as data: its name, its declared config keys and their defaults.

Pulumi.yaml is the single place where a config key's type, description and default live. The
program falls back to these defaults for keys a stack does not set (the CLI does the same), and
the offline harness feeds them to the mocks, which do not read project files themselves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ConfigKey:
    name: str
    type: str
    description: str
    default: Any


@dataclass(frozen=True)
class Project:
    name: str
    keys: dict[str, ConfigKey]
    # Keys outside the project namespace set with `value:` (pulumi:disable-default-providers).
    fixed_values: dict[str, Any]


@functools.cache
def load_project(project_dir: Path = PROJECT_DIR) -> Project:
    document = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    keys: dict[str, ConfigKey] = {}
    fixed: dict[str, Any] = {}
    for name, spec in (document.get("config") or {}).items():
        if "value" in spec:
            fixed[name] = spec["value"]
            continue
        keys[name] = ConfigKey(name, spec["type"], spec.get("description", ""), spec.get("default"))
    return Project(name=document["name"], keys=keys, fixed_values=fixed)


def load_stack_document(stack: str, project_dir: Path = PROJECT_DIR, path: Path | None = None) -> dict[str, Any]:
    """Pulumi.<stack>.yaml (or `path`) as data: `config:`, and `environment:` (ESC imports) if any."""
    path = path or project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}: known stacks are {known_stacks(project_dir)}")
    return yaml.safe_load(path.read_text()) or {}


def load_stack_file(stack: str, project_dir: Path = PROJECT_DIR, path: Path | None = None) -> dict[str, Any]:
    """The `config:` section of Pulumi.<stack>.yaml (or of `path`), keys as written (namespaced)."""
    return load_stack_document(stack, project_dir, path).get("config") or {}


def stack_environments(document: dict[str, Any]) -> list[str]:
    """The ESC environments a stack file imports (`environment: [a, b]` or `environment: a`)."""
    imported = document.get("environment") or []
    return [imported] if isinstance(imported, str) else [str(e) for e in imported]


def known_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
