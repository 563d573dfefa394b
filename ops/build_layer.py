"""Build the dependency layer for the Lambda platform, reproducibly.

    sdr layer [--output build/layer.zip]
    sdr layer --lock        # re-resolve functions/requirements.lock

The layer installs functions/requirements.lock: every package, transitive ones included, pinned
with its wheel's sha256 (`--require-hashes --no-deps`), resolved once for Linux aarch64
(glibc <= 2.34) / CPython 3.13 from functions/requirements.txt. Binary wheels only, so nothing
compiles for the wrong machine; console scripts (`bin/`, whose first line names the builder's
interpreter) are dropped; the zip has sorted entries, fixed times and permissions. The same lock
gives the same bytes on any machine, hence the same layer version: CI and a laptop publish the
same layer and update no function.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from stack.packaging import FUNCTIONS_DIR

# The python3.13 runtime is Amazon Linux 2023 (glibc 2.34): wheels for glibc <= 2.34 run there.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
PYTHON_VERSION = "3.13"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def deterministic_zip(source: Path, output: Path) -> None:
    """Zip `source` with sorted entries, fixed times and permissions (no build-machine traces)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
LOCK = FUNCTIONS_DIR / "requirements.lock"
# The Python runtime brings boto3, botocore and their dependencies; a vendored copy in /opt/python
# comes first on the path and would shadow the versions botocore was tested with.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"})


def _pip_target_args() -> list[str]:
    return [
        *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
    ]


PIP_INSTALL = (sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def install_command(target: Path, lock: Path = LOCK) -> list[str]:
    return [
        *PIP_INSTALL,
        "--no-compile",
        "--no-deps",
        "--require-hashes",
        *_pip_target_args(),
        "--target",
        str(target),
        "-r",
        str(lock),
    ]


def build(output: Path, lock: Path = LOCK) -> Path:
    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / "layer" / "python"
        subprocess.run(install_command(target, lock), check=True)
        shutil.rmtree(target / "bin", ignore_errors=True)
        deterministic_zip(target.parent, output)
    return output


def lock_lines(report: dict) -> list[str]:
    """`name==version --hash=sha256:...` for every wheel pip resolved, minus what the runtime has."""
    lines = []
    for item in sorted(report["install"], key=lambda i: i["metadata"]["name"].lower()):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name.lower().replace("_", "-") in RUNTIME_PROVIDED:
            continue
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    return lines


def write_lock(requirements: Path = REQUIREMENTS, lock: Path = LOCK) -> Path:
    import json

    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.json"
        subprocess.run(
            [
                *PIP_INSTALL,
                "--dry-run",
                "--ignore-installed",
                "--report",
                str(report),
                *_pip_target_args(),
                "--target",
                str(Path(work) / "unused"),
                "-r",
                str(requirements),
            ],
            check=True,
        )
        lines = lock_lines(json.loads(report.read_text()))
    header = (
        f"# The dependency layer, resolved from {requirements.name} for manylinux aarch64 / CPython {PYTHON_VERSION}\n"
        "# (sdr layer --lock). Every package pinned with its wheel's hash; boto3,\n"
        "# botocore and their dependencies come with the Lambda runtime and are left out.\n"
    )
    lock.write_text(header + "\n".join(lines) + "\n")
    return lock
