"""The game day's stack: a name of its own, a config derived from a base stack, and the rules
that keep the command away from anything that is not its own."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ops.errors import Refused
from stack.config import ConfigError, parse_stack_config, project_values
from stack.project import PROJECT_DIR, load_project, load_stack_file

PREFIX = "gameday-"
NAME = re.compile(r"^gameday-[a-z0-9-]{1,40}$")
# The mark a game day leaves on the stack it created: a stack tag (where the backend keeps tags)
# and a config key outside the program's namespace (every backend keeps those).
MARK_TAG = "sdr:gameday"
MARK_KEY = "sdr-gameday:run"
# Settings that would keep `destroy` from removing what the run created.
CANNOT_BE_DESTROYED = {
    "deletionProtection": "deletion protection on the tables",
    "backupVaultLock": "a vault lock (recovery points that cannot be deleted)",
}


def new_name(now: dt.datetime) -> str:
    return f"{PREFIX}{now:%Y%m%d-%H%M%S}"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise Refused(f"stack {name!r} is not a game-day stack: its name must match {NAME.pattern}")
    return name


def settings(base: str, name: str, domain: str, assignments: dict[str, Any], project_dir=PROJECT_DIR) -> dict[str, Any]:
    """The ephemeral stack's `config:`: the base stack file's, on the user's domain under labels
    of its own, deletion protection off (the stack holds only what the game day writes), then
    the user's --set values; validated as a real preview would."""
    project = load_project(project_dir).name
    config = dict(load_stack_file(base, project_dir))
    ns = f"{project}:"
    config.update(
        {
            f"{ns}domain": domain,
            f"{ns}apiSubdomain": f"{name}-api",
            f"{ns}siteSubdomain": f"{name}-www",
            f"{ns}readSubdomain": f"{name}-read",
            f"{ns}deletionProtection": False,
            f"{ns}backupVaultLock": False,
        }
    )
    config.update({k if ":" in k else f"{ns}{k}": v for k, v in assignments.items()})
    for key, what in CANNOT_BE_DESTROYED.items():
        if str(config.get(f"{ns}{key}")).lower() == "true":
            raise Refused(f"{key}=true: a game-day stack with {what} could not be destroyed after the run")
    try:
        parse_stack_config(project_values(config, project), stack=name)
    except ConfigError as error:
        raise Refused(f"the game day's config is not valid: {error}") from None
    config[MARK_KEY] = name
    return config


def is_marked(name: str, config: dict[str, Any], tags: dict[str, str]) -> bool:
    """The stack is one a game day created: its name, and the mark it wrote."""
    return bool(NAME.match(name)) and (config.get(MARK_KEY) == name or tags.get(MARK_TAG) == name)
