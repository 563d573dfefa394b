"""serverless-dr: load and validate the stack config, then build the stack (see stack/app.py)."""

import pulumi

from stack.app import build
from stack.config import ConfigError, load_stack_config

try:
    config = load_stack_config()
except ConfigError as error:
    # One line naming key, value and rule; RunError ends the program without a traceback.
    raise pulumi.RunError(str(error)) from None
build(config)
