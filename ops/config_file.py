"""Check or edit a stack's config file the way `pulumi preview` will read it, without the CLI.

    sdr config --stack <stack> --check                  # exit 2 with one line if refused
    sdr config --stack <stack> --set domain=blog.acme.io [--set ...] [--check]

--check validates Pulumi.<stack>.yaml with the rules of a real preview (a placeholder domain such
as example.com is refused there, though the offline plan accepts it). --set writes one key (of
this project's namespace) into the file, keeping every other line and comment: the pull-request
workflow uses it to put the repository's real zone into the dr stack before previewing.
Values are YAML scalars or flow lists (`regions=[us-east-1, eu-west-1]`).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from stack.config import ConfigError, StackConfig, parse_stack_config, project_values
from stack.project import PROJECT_DIR, load_project


def stack_file_path(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def read_config(stack: str, path: Path | None = None, *, real: bool = True) -> StackConfig:
    """The stack file's config, validated as a real preview (`real`) or the offline plan would."""
    from ops.offline_run import resolve_config

    values = resolve_config(stack, stack_file=path).values
    return parse_stack_config(project_values(values, load_project().name), stack=stack, allow_placeholder_domain=not real)


def set_value(path: Path, key: str, value: str) -> None:
    """Set `key` (namespaced here) in the stack file's `config:` block, in place."""
    project = load_project()
    if key not in project.keys:
        raise ConfigError(f"{project.name}:{key}", value, f"a key declared in Pulumi.yaml ({', '.join(sorted(project.keys))})")
    yaml.safe_load(f"v: {value}")  # refuse what is not one YAML value before touching the file
    line = f"  {project.name}:{key}: {value}"
    text = path.read_text() if path.exists() else "config:\n"
    lines = text.splitlines()
    pattern = re.compile(rf"^\s+{re.escape(project.name)}:{re.escape(key)}:")
    at = next((i for i, current in enumerate(lines) if pattern.match(current)), None)
    if at is None:
        if "config:" not in lines:
            lines.append("config:")
        # Insert at the end of the config block, before any later top-level key (environment:).
        end = lines.index("config:") + 1
        while end < len(lines) and (not lines[end] or lines[end][0] in " #"):
            end += 1
        lines.insert(end, line)
    else:
        # A block list under the key (`- item` lines) is replaced together with the key.
        end = at + 1
        while end < len(lines) and re.match(r"^\s+-\s", lines[end]):
            end += 1
        lines[at:end] = [line]
    path.write_text("\n".join(lines) + "\n")


def edit(
    stack: str, *, assignments: tuple[str, ...] | list[str] = (), check: bool = False, path: Path | None = None
) -> list[str]:
    """`sdr config`: write each KEY=VALUE into the stack file, then (`check`) validate it as a real
    preview would. Returns the lines to print; a refusal is a ConfigError or OperatorError."""
    from ops.errors import OperatorError

    path = path or stack_file_path(stack)
    if not path.is_file():
        raise OperatorError(f"no stack file {path.name} (pass --file, or create it with pulumi stack init {stack})")
    lines = []
    try:
        for assignment in assignments:
            key, sep, value = assignment.partition("=")
            if not sep or not key:
                raise OperatorError(f"--set {assignment}: expected KEY=VALUE")
            set_value(path, key.split(":", 1)[-1], value)
            lines.append(f"{path.name}: {key.split(':', 1)[-1]} = {value}")
        if check:
            cfg = read_config(stack, path)
            lines.append(f"{stack}: config valid ({len(cfg.regions)} region(s), domain {cfg.domain or 'none'})")
    except yaml.YAMLError as error:
        raise OperatorError(f"{path.name}: not YAML ({str(error).splitlines()[0]})") from None
    return lines
