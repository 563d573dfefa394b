"""What an operator command can fail with, each with its exit status (docs/cli.md).

Commands raise these with one line that names what was wrong; the CLI prints it after the
command's name and exits with the status. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class OperatorError(Exception):
    """Bad input: a usage error, an invalid stack config, a stack output that is missing."""

    exit_code = 2


class CheckFailed(OperatorError):
    """The command ran and what it checked does not hold (over budget, a blocking finding)."""

    exit_code = 1


class Refused(OperatorError):
    """A safety rule said no; nothing was changed."""

    exit_code = 3


class AwsUnavailable(OperatorError):
    """The account could not be reached or answered with an error (credentials, permissions)."""

    exit_code = 4
