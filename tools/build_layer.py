"""Build the dependency layer for the Lambda platform, reproducibly.

    python -m tools.build_layer [--output build/layer.zip]

Installs functions/requirements.txt for Linux aarch64 (glibc <= 2.34) / CPython 3.13 (binary wheels only,
so nothing compiles for the wrong machine) into python/ and zips it with fixed timestamps and
sorted entries: the same requirements give the same bytes, hence the same layer version.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from stack.packaging import FUNCTIONS_DIR, LAYER_ARCHIVE

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


def build(output: Path, requirements: Path = FUNCTIONS_DIR / "requirements.txt") -> Path:
    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / "layer" / "python"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                "--only-binary=:all:",
                "--target",
                str(target),
                "-r",
                str(requirements),
            ],
            check=True,
        )
        # boto3/botocore come with the runtime; a vendored copy would shadow its patches.
        for name in ("boto3", "botocore", "s3transfer"):
            for path in target.glob(f"{name}*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        deterministic_zip(target.parent, output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_layer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=LAYER_ARCHIVE)
    args = parser.parse_args(argv)
    path = build(args.output)
    print(f"{path} {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
