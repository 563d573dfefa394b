"""The refusal every config check raises, and the commonest check: a value from a fixed list.
Its own module so that the parsers of each system's keys (stack/container_config.py,
stack/relational_config.py) and stack/config.py, which calls them, share one."""

from __future__ import annotations

import json
from typing import Any


class ConfigError(ValueError):
    """A stack config value that the program refuses; the message names key, value and rule."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key = key
        self.value = value
        super().__init__(f"config {key}={json.dumps(value)} is not allowed: {allowed}")


def one_of(key: str, value: Any, allowed: tuple) -> Any:
    if value not in allowed:
        raise ConfigError(key, value, "one of " + ", ".join(map(str, allowed)))
    return value
