"""Generate the Python client of the blog API from its OpenAPI document.

    sdr client [--output clients/python/serverless_dr_client]

The client is what openapi-python-client (pinned in requirements-dev.txt) makes of the document
a stack publishes (`apiDocument`), formatted with the project's ruff, so the same document gives
the same files on any machine: `make test` regenerates it and fails when the committed copy
differs (the document changed and nobody regenerated). Servers are not part of the generated code:
a caller passes its stack's `apiDocument` servers to `serverless_dr_failover.failover_client`,
which fails over between them by itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stack import api_contract

ROOT = Path(__file__).resolve().parents[1]
CLIENT_DIR = ROOT / "clients" / "python"
PACKAGE = "serverless_dr_client"
OUTPUT = CLIENT_DIR / PACKAGE
# A placeholder: each caller's servers come from its stack's apiDocument output.
PLACEHOLDER_SERVER = "https://api.example.com"


def document() -> dict:
    return api_contract.published_document([PLACEHOLDER_SERVER], max_upload_bytes=None)


def generate(output: Path = OUTPUT) -> Path:
    """Write the client package to `output` (replacing what is there)."""
    ruff = f"{sys.executable} -m ruff"
    pyproject = ROOT / "pyproject.toml"
    config = {
        "project_name_override": "serverless-dr-client",
        "package_name_override": PACKAGE,
        # The project's ruff and settings wherever it is generated, so a copy made elsewhere (the
        # drift check's) matches the committed one byte for byte.
        "post_hooks": [
            f"{ruff} check --config {pyproject} --fix-only --no-cache .",
            f"{ruff} format --config {pyproject} --no-cache .",
        ],
    }
    with tempfile.TemporaryDirectory() as work:
        spec, settings = Path(work) / "openapi.json", Path(work) / "config.json"
        spec.write_text(json.dumps(document(), indent=2))
        settings.write_text(json.dumps(config))
        staged = Path(work) / PACKAGE
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "openapi_python_client",
                "generate",
                "--path",
                str(spec),
                "--config",
                str(settings),
                "--meta",
                "none",
                "--output-path",
                str(staged),
            ],
            capture_output=True,
            text=True,
            cwd=work,
        )
        if run.returncode != 0 or not staged.is_dir():
            raise RuntimeError(f"openapi-python-client failed: {(run.stderr or run.stdout).strip()[-500:]}")
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, output, ignore=shutil.ignore_patterns("__pycache__"))
    return output


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}
