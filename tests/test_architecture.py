"""The import contracts in pyproject.toml hold, and they do fail when someone adds an upward import or a cycle:
each case writes one violating import into a temporary copy of chalicelib and runs `lint-imports` there."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import PROJECT_DIR

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
OTHER_ROOTS = ("sandbox", "infra", "tests", "benchmarks")  # stand-ins: the contracts name them


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("house")
    shutil.copytree(PROJECT_DIR / "chalicelib", root / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_DIR / "pyproject.toml", root / "pyproject.toml")
    for name in OTHER_ROOTS:
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
    (root / "tests" / "conftest.py").write_text("")
    return root


def test_the_contracts_hold_in_the_copy(copy):
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "path, source, contract",
    [
        # a base module reaching up into a capability
        ("chalicelib/settings.py", "from chalicelib.redaction import redactor\n", "capabilities -> base"),
        # redaction learning about messaging
        ("chalicelib/redaction/leak.py", "from chalicelib.messaging import inbound\n", "know nothing of messaging"),
        # an adapter reaching up to a use case
        ("chalicelib/messaging/store/upward.py", "from chalicelib.messaging import outbound\n", "messaging: wiring"),
        # Meta and Connect adapters importing each other (a cycle between siblings)
        ("chalicelib/messaging/meta/ring.py", "from chalicelib.messaging.connect import chat\n", "messaging: wiring"),
        # production code importing a test helper
        ("chalicelib/scanning/helper.py", "import tests\n", "chalicelib never imports"),
        # a test importing a conftest instead of a helper module
        ("tests/uses_conftest.py", "from tests.conftest import x\n", "nothing imports a conftest"),
        # a cycle between two capabilities
        ("chalicelib/scanning/back.py", "from chalicelib.ivr import result\n", "capabilities -> base"),
    ],
)
def test_a_violating_module_breaks_its_contract(copy, path, source, contract):
    module = copy / path
    original = module.read_text() if module.exists() else None
    module.write_text((original or "") + source)
    try:
        result = lint_imports(copy)
    finally:
        if original is None:
            module.unlink()
        else:
            module.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    _, _, broken = result.stdout.partition("Broken contracts")
    assert contract in broken, result.stdout


def imported_test_modules(source: str) -> list[str]:
    """The `tests…test_*` modules a source imports (pytest collects those; helpers live in helper modules)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in names if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")]


def test_no_module_imports_a_test_module():
    importers = {
        str(path.relative_to(PROJECT_DIR)): found
        for root in ("tests", "benchmarks", "sandbox", "tools", "infra")
        for path in (PROJECT_DIR / root).rglob("*.py")
        if (found := imported_test_modules(path.read_text()))
    }
    assert importers == {}


@pytest.mark.parametrize(
    "source",
    [
        "from tests.deploy.test_iam_policies import rendered\n",
        "import tests.test_logs\n",
        "from tests.deploy import test_paging\n",
    ],
)
def test_importing_a_test_module_is_found(source):
    assert imported_test_modules(source)
