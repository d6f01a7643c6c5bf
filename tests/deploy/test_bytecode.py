"""Bytecode in the deployment packages (infra/bytecode.py): every module compiled, old caches dropped, the rest
of the zip kept as it was, and Python really loading the bytecode, unless the source was edited since."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import bytecode
from tests.support import PROJECT_DIR

PREFIX = "python/lib/python3.13/site-packages/"
MODULES = {
    PREFIX + "shop/__init__.py": "from shop.prices import total\n",
    PREFIX + "shop/prices.py": "def total(items):\n    return sum(items)\n",
    "app.py": "import shop\nANSWER = shop.total([40, 2])\n",
}
PYTHON2_ONLY = PREFIX + "shop/legacy.py"  # vendored files for another Python exist (olefile ships olefile2.py)
STALE = PREFIX + "shop/__pycache__/prices.cpython-312.pyc"
SOURCELESS = PREFIX + "shop/sourceless.pyc"  # a module shipped as bytecode only must survive
DATA = PREFIX + "shop/data/rates.json"
EXECUTABLE = PREFIX + "shop/bin/tool"
# Run in the unpacked package: which of its modules Python compiled from source, and what app computed.
IMPORT_APP = """
import importlib.machinery, json, sys
compiled = []
to_code = importlib.machinery.SourceFileLoader.source_to_code
def recording(self, data, path, *args, **kwargs):
    compiled.append(path.rsplit("/", 1)[-1])
    return to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = recording
import app
print(json.dumps({"answer": app.ANSWER, "compiled": sorted(compiled)}))
"""


@pytest.fixture
def package(tmp_path) -> Path:
    path = tmp_path / "managed-layer-test.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in MODULES.items():
            archive.writestr(name, text)
        archive.writestr(PYTHON2_ONLY, 'print "hello"\n')
        archive.writestr(STALE, b"\x00" * 32)
        archive.writestr(SOURCELESS, b"\x00" * 32)
        archive.writestr(DATA, '{"EUR": 1}')
        tool = zipfile.ZipInfo(EXECUTABLE, (2020, 1, 2, 3, 4, 6))
        tool.external_attr = 0o755 << 16
        archive.writestr(tool, b"#!/bin/sh\n")
    return path


def unpack(package: Path, where: Path) -> Path:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(where)
    return where


def import_app(task: Path, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", IMPORT_APP],
        cwd=task,
        env={"PYTHONPATH": f"{task}:{task / PREFIX}", **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_module_gets_its_bytecode_and_old_caches_go(package):
    assert not bytecode.has_bytecode(package)
    assert bytecode.add_bytecode(package) == (len(MODULES), 1)
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        for module in MODULES:
            cached = bytecode.cached_name(module)
            assert cached in names
            flags = int.from_bytes(archive.read(cached)[4:8], "little")
            assert flags == 0b11, "a checked-hash pyc (PEP 552): used only for the exact source it came from"
        assert STALE not in names and SOURCELESS in names
        assert bytecode.cached_name(PYTHON2_ONLY) not in names and PYTHON2_ONLY in names
    assert bytecode.has_bytecode(package)
    assert not list(package.parent.glob("*.bytecode")), "no scratch zip left behind"


def test_everything_else_is_kept_byte_for_byte_with_its_mode(package):
    bytecode.add_bytecode(package)
    with zipfile.ZipFile(package) as archive:
        assert archive.read(DATA) == b'{"EUR": 1}'
        assert archive.read("app.py") == MODULES["app.py"].encode()
        tool = archive.getinfo(EXECUTABLE)
        assert tool.external_attr >> 16 == 0o755 and tool.date_time == (2020, 1, 2, 3, 4, 6)


def test_python_loads_the_bytecode_and_compiles_nothing(package, tmp_path):
    before = import_app(unpack(package, tmp_path / "sources"))
    assert before == {"answer": 42, "compiled": ["__init__.py", "app.py", "prices.py"]}  # what a cold start did
    bytecode.add_bytecode(package)
    assert import_app(unpack(package, tmp_path / "bytecode")) == {"answer": 42, "compiled": []}


def test_a_module_edited_in_place_runs_as_edited(package, tmp_path):
    bytecode.add_bytecode(package)
    task = unpack(package, tmp_path / "task")
    (task / PREFIX / "shop" / "prices.py").write_text("def total(items):\n    return 7\n")  # a console hot-fix
    assert import_app(task) == {"answer": 7, "compiled": ["prices.py"]}


def test_the_deployers_environment_changes_neither_names_nor_code(package, tmp_path):
    (tmp_path / "check.py").write_text("assert False, 'asserts run'\n")
    with zipfile.ZipFile(package, "a") as archive:
        archive.write(tmp_path / "check.py", "check.py")
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from pathlib import Path; from infra import bytecode; bytecode.add_bytecode(Path({str(package)!r}))",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONOPTIMIZE": "2", "PYTHONPYCACHEPREFIX": str(tmp_path / "elsewhere")},
        check=True,
    )
    with zipfile.ZipFile(package) as archive:
        assert {n for n in archive.namelist() if n.endswith(".pyc")} == {
            bytecode.cached_name(name) for name in (*MODULES, "check.py")
        } | {SOURCELESS}
    task = unpack(package, tmp_path / "task")
    done = subprocess.run([sys.executable, "-S", "-B", "-c", "import check"], cwd=task, capture_output=True, text=True)
    assert "AssertionError: asserts run" in done.stderr
