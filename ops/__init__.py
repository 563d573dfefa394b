"""What an operator runs, as one command `sdr` (cli.py): the offline plan and its diff, costs,
preflight, stack-file edits, the drill (drain, promote, restore tests), the dead-letter redrive
and the Lambda layer build. Never imports verify/.

The checkout's root goes on the import path (the installed `sdr` runs from anywhere, over the
program in stack/ and components/). Some commands reuse the functions' own code (the write lease
protocol, the drain flag's values): the functions import their common package as `shared`
(functions/ is the root of each function's archive), so functions/ goes on the path too, once,
and operator commands import it the same way.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
for _path in (ROOT, FUNCTIONS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0 if _path == FUNCTIONS_DIR else len(sys.path), str(_path))
