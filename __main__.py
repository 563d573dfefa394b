"""serverless-dr: load and validate the stack config, then build the stack (see stack/app.py)."""

from stack.app import build
from stack.config import load_stack_config

build(load_stack_config())
