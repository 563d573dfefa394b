"""The layer zip is reproducible: same content, same bytes, whatever the file times."""

import os
import re
import zipfile

from ops.build_layer import LOCK, REQUIREMENTS, RUNTIME_PROVIDED, deterministic_zip, install_command, lock_lines
from stack.packaging import code_archive, source_files


def test_same_content_gives_the_same_bytes(tmp_path):
    source = tmp_path / "layer" / "python" / "pkg"
    source.mkdir(parents=True)
    (source / "b.py").write_text("B = 2\n")
    (source / "a.py").write_text("A = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "a.cpython-313.pyc").write_bytes(b"junk")
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    deterministic_zip(tmp_path / "layer", first)
    os.utime(source / "a.py", (1, 1))  # a touched file must not change the archive
    deterministic_zip(tmp_path / "layer", second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["python/pkg/a.py", "python/pkg/b.py"]
        assert {i.date_time for i in archive.infolist()} == {(2020, 1, 1, 0, 0, 0)}


def test_code_archive_holds_the_package_and_the_shared_library_sources_only():
    archive = code_archive("api")
    names = sorted(archive.assets)
    assert "api/app.py" in names and "api/schemas/PostCreate.json" in names and "shared/items.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert len(names) == len(source_files("api")) + len(source_files("shared"))


def _report(*packages):
    return {
        "install": [
            {"metadata": {"name": name, "version": version}, "download_info": {"archive_info": {"hashes": {"sha256": digest}}}}
            for name, version, digest in packages
        ]
    }


def test_lock_pins_every_resolved_wheel_by_hash_except_what_the_runtime_brings():
    report = _report(
        ("wrapt", "2.5.2", "ee"),
        ("boto3", "1.40.0", "aa"),
        ("aws_lambda_powertools", "3.37.0", "bb"),
        ("python_dateutil", "2.9.0", "cc"),
    )
    assert lock_lines(report) == [
        "aws_lambda_powertools==3.37.0 --hash=sha256:bb",
        "wrapt==2.5.2 --hash=sha256:ee",
    ]


def test_the_shipped_lock_covers_every_requirement_with_a_hash():
    def name(spec):
        return re.split(r"[\[=<>~ ]", spec, maxsplit=1)[0].lower().replace("_", "-")

    requirements = [line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    locked = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+ --hash=sha256:[0-9a-f]{64}", line) for line in locked), locked
    locked_names = {name(line) for line in locked}
    assert {name(r) for r in requirements} <= locked_names
    assert not locked_names & RUNTIME_PROVIDED


def test_the_layer_installs_only_the_hashed_lock_for_the_lambda_platform(tmp_path):
    command = install_command(tmp_path / "python", LOCK)
    assert {"--no-deps", "--require-hashes", "--only-binary=:all:", "--no-compile"} <= set(command)
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("-r") + 1] == str(LOCK)
    platforms = {command[i + 1] for i, arg in enumerate(command) if arg == "--platform"}
    assert platforms and all(p.endswith("_aarch64") for p in platforms)
