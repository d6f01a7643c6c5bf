"""Bytecode in the deployment packages (infra/bytecode.py): every module compiled, old caches dropped, the rest
of the zip kept as it was, and Python really loading the bytecode instead of the source."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import bytecode

PREFIX = "python/lib/python3.13/site-packages/"
MODULES = {
    PREFIX + "shop/__init__.py": "from shop.prices import total\n",
    PREFIX + "shop/prices.py": "def total(items):\n    return sum(items)\n",
    "app.py": "import shop\nANSWER = shop.total([40, 2])\n",
}
PYTHON2_ONLY = PREFIX + "shop/legacy.py"  # vendored files for another Python exist (olefile ships olefile2.py)
STALE = PREFIX + "shop/__pycache__/prices.cpython-312.pyc"
DATA = PREFIX + "shop/data/rates.json"
EXECUTABLE = PREFIX + "shop/bin/tool"


@pytest.fixture
def package(tmp_path) -> Path:
    path = tmp_path / "managed-layer-test.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in MODULES.items():
            archive.writestr(name, text)
        archive.writestr(PYTHON2_ONLY, 'print "hello"\n')
        archive.writestr(STALE, b"\x00" * 32)
        archive.writestr(DATA, '{"EUR": 1}')
        tool = zipfile.ZipInfo(EXECUTABLE, (2020, 1, 2, 3, 4, 6))
        tool.external_attr = 0o755 << 16
        archive.writestr(tool, b"#!/bin/sh\n")
    return path


def test_every_module_gets_its_bytecode_and_old_caches_go(package):
    assert not bytecode.has_bytecode(package)
    assert bytecode.add_bytecode(package) == (len(MODULES), 1)
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        for module in MODULES:
            cached = importlib.util.cache_from_source(module)
            assert cached in names
            flags = int.from_bytes(archive.read(cached)[4:8], "little")
            assert flags == 0b01, "an unchecked-hash pyc (PEP 552): the source is never read"
        assert STALE not in names
        assert importlib.util.cache_from_source(PYTHON2_ONLY) not in names and PYTHON2_ONLY in names
    assert bytecode.has_bytecode(package)


def test_everything_else_is_kept_byte_for_byte_with_its_mode(package):
    bytecode.add_bytecode(package)
    with zipfile.ZipFile(package) as archive:
        assert archive.read(DATA) == b'{"EUR": 1}'
        tool = archive.getinfo(EXECUTABLE)
        assert tool.external_attr >> 16 == 0o755 and tool.date_time == (2020, 1, 2, 3, 4, 6)
        assert archive.read("app.py") == MODULES["app.py"].encode()


def test_python_loads_the_bytecode_not_the_source(package, tmp_path):
    bytecode.add_bytecode(package)
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    # Were the source read, this would be the module now; with the bytecode it is never looked at.
    (unpacked / PREFIX / "shop" / "prices.py").write_text("raise SystemExit('the source was compiled')\n")
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", "import app; print(app.ANSWER)"],
        cwd=unpacked,
        env={"PYTHONPATH": f"{unpacked}:{unpacked / PREFIX}"},
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "42"), done.stderr


def test_without_bytecode_the_same_check_does_read_the_source(package, tmp_path):
    """The test above can fail: the same swap in a package without bytecode reaches the source."""
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    (unpacked / PREFIX / "shop" / "prices.py").write_text("raise SystemExit('the source was compiled')\n")
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", "import app"],
        cwd=unpacked,
        env={"PYTHONPATH": f"{unpacked}:{unpacked / PREFIX}"},
        capture_output=True,
        text=True,
    )
    assert "the source was compiled" in done.stderr
