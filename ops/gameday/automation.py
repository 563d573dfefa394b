"""The game day's stack through Pulumi's Automation API (pulumi.automation, or a fake of the
same shape in the offline tests): create it with its config and mark, `up`, `destroy`, remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ops.errors import Refused
from ops.gameday.ephemeral import MARK_TAG, is_marked
from stack.project import PROJECT_DIR


class Stacks:
    def __init__(self, auto: Any = None, work_dir=PROJECT_DIR, out: Callable[[str], None] = print):
        if auto is None:
            from pulumi import automation as auto
        self.auto, self.work_dir, self.out = auto, str(work_dir), out

    def _select(self, name: str):
        return self.auto.select_stack(stack_name=name, work_dir=self.work_dir)

    def exists(self, name: str) -> bool:
        workspace = self.auto.LocalWorkspace(work_dir=self.work_dir)
        return any(summary.name == name for summary in workspace.list_stacks())

    def create(self, name: str, config: dict[str, Any]) -> None:
        """A new stack whose settings are `config` (the backend's own settings, such as a
        passphrase provider's salt written by `stack init`, are kept), tagged where it can be."""
        stack = self.auto.create_stack(stack_name=name, work_dir=self.work_dir)
        try:
            settings = stack.workspace.stack_settings(name)
        except FileNotFoundError:  # backends with no secrets salt write no file at `stack init`
            settings = self.auto.StackSettings()
        settings.config = config
        stack.workspace.save_stack_settings(name, settings)
        try:
            stack.set_tag(MARK_TAG, name)
        except self.auto.CommandError:
            self.out(f"{name}: this backend keeps no stack tags; the stack file's {MARK_TAG} config key marks it")

    def up(self, name: str) -> dict[str, Any]:
        result = self._select(name).up(on_output=self.out, color="never")
        return {key: output.value for key, output in result.outputs.items()}

    def destroy(self, name: str) -> None:
        """Destroy and remove the stack, only if a game day created it."""
        stack = self._select(name)
        config = {key: value.value for key, value in stack.get_all_config().items()}
        try:
            tags = dict(stack.list_tags())
        except self.auto.CommandError:
            tags = {}
        if not is_marked(name, config, tags):
            raise Refused(f"stack {name} was not created by a game day (no {MARK_TAG} mark): not destroying it")
        stack.destroy(on_output=self.out, color="never")
        stack.workspace.remove_stack(name)
