"""Every stack file of the project (the shipped two and any Pulumi.<name>.yaml a user adds) plans
offline and keeps every invariant, with expectations derived from that file's own config."""

import pytest

from ops.offline_run import run_stack
from stack.project import known_stacks
from tests.stacks.invariants import problems


@pytest.mark.parametrize("stack", known_stacks(), ids=str)
def test_the_project_stack_keeps_every_invariant(stack):
    assert problems(run_stack(stack)) == {}
