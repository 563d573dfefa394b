"""A deployed stack's outputs: what the operator commands act on.

From `pulumi stack output --json --show-secrets --stack <stack>`, or from a file holding the same
JSON where the Pulumi CLI is not at hand (`--outputs FILE`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ops.errors import OperatorError


def load_outputs(stack: str, path: Path | None) -> dict[str, Any]:
    if path is not None:
        try:
            outputs = json.loads(path.read_text())
        except FileNotFoundError:
            raise OperatorError(f"--outputs {path}: no such file") from None
        except json.JSONDecodeError as error:
            raise OperatorError(f"--outputs {path}: not JSON ({error.msg} at line {error.lineno})") from None
    else:
        try:
            result = subprocess.run(
                ["pulumi", "stack", "output", "--json", "--stack", stack], check=True, capture_output=True, text=True
            )
        except FileNotFoundError:
            raise OperatorError("the Pulumi CLI is not installed; pass --outputs FILE (pulumi stack output --json)") from None
        except subprocess.CalledProcessError as error:
            last = (error.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise OperatorError(f"pulumi stack output --stack {stack} failed: {last[0]}") from None
        outputs = json.loads(result.stdout)
    if not isinstance(outputs, dict):
        raise OperatorError(f"stack {stack}'s outputs are not a JSON object")
    return outputs
