"""The blog's Lambda artefacts: the code archive of a function package, and the dependency layer.

Code archives list source files explicitly (sorted, *.py, *.json and *.html only) so that caches,
editor files or `__pycache__` never change a function's hash: a function is redeployed exactly
when its code or the shared library changes. Third-party packages live in one layer per region,
built by `sdr layer` for the Lambda platform (arm64, CPython 3.13); boto3 comes
with the runtime. The components take these archives through their args; they never read
functions/ themselves.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pulumi

PROJECT_DIR = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = PROJECT_DIR / "functions"
LAYER_ARCHIVE = PROJECT_DIR / "build" / "layer.zip"
SHARED_PACKAGE = "shared"
SOURCE_SUFFIXES = (".py", ".json", ".html")  # .html: a page template (functions/pages)


def source_files(package: str) -> list[Path]:
    root = FUNCTIONS_DIR / package
    if not (root / "__init__.py").exists():
        raise FileNotFoundError(f"functions/{package} is not a function package (no __init__.py)")
    return sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)


def code_archive(package: str) -> pulumi.AssetArchive:
    """`package` and the shared library at the archive root (handler `<package>.app.handler`)."""
    files = [*source_files(package), *source_files(SHARED_PACKAGE)]
    return pulumi.AssetArchive({str(p.relative_to(FUNCTIONS_DIR)): pulumi.FileAsset(str(p)) for p in files})


def code_hash(package: str) -> str:
    """What the archive of `package` holds, as one digest: a deploy that changes it changes this."""
    digest = hashlib.sha256()
    for path in [*source_files(package), *source_files(SHARED_PACKAGE)]:
        digest.update(str(path.relative_to(FUNCTIONS_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def handler_of(package: str) -> str:
    return f"{package}.app.handler"


def layer_archive() -> pulumi.FileArchive:
    # Built before `pulumi preview/up` (make layer); the engine reports a missing file by path.
    return pulumi.FileArchive(str(LAYER_ARCHIVE))
