"""The layer zip is reproducible: same content, same bytes, whatever the file times."""

import os
import zipfile

from stack.packaging import code_archive, source_files
from tools.build_layer import deterministic_zip


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
