"""What an operator runs: the offline plan and its diff, costs, preflight, stack-file edits, the
drill (drain, promote, restore tests) and the Lambda layer build. Never imports verify/.

Some commands reuse the functions' own code (the write lease protocol, the drain flag's values).
The functions import their common package as `shared` (functions/ is the root of each function's
archive); functions/ goes on the import path here, once, so operator commands import it the same
way and a process never holds two copies of one module.
"""

import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))
