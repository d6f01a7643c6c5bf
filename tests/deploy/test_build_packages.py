"""The deploy's packaging steps around chalice (Deployment.build_packages, check_packages_reused), with a stand-in
for chalice's zip cache: `package` builds or reuses `.chalice/deployments/<name>.zip` and copies it out, as
chalice does; `deploy` reuses whatever is cached. test_chalice_package.py runs the real chalice once."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from infra import bytecode
from infra.deploy import Deployment
from infra.stage import PROJECT_DIR, Stage

EXAMPLE = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())


class ChaliceCache:
    """Runs `chalice package` and `chalice deploy` the way they treat .chalice/deployments."""

    dry_run = False

    def __init__(self, project: Path):
        self.cache = project / ".chalice" / "deployments"
        self.project = project
        self.sources = {"appcode-a1-python3.13.zip": "app.py", "managed-layer-b2-python3.13-arm64.zip": "shop.py"}
        self.deploy_builds: str | None = None  # a zip name `deploy` finds missing and builds (a source changed)

    def run(self, argv, env, cwd, capture=False):
        command = argv[1]
        if command == "package":
            out = self.project / argv[-1]
            out.mkdir(parents=True)
            for name, module in self.sources.items():
                self._build(name, module)
                shutil.copy(self.cache / name, out / ("deployment.zip" if name.startswith("app") else "layer.zip"))
        elif command == "deploy" and self.deploy_builds:
            self._build(self.deploy_builds, "app.py")
        return ""

    def _build(self, name: str, module: str) -> None:
        if not (self.cache / name).exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(self.cache / name, "w") as archive:
                archive.writestr(module, "VALUE = 1\n")


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / ".chalice").mkdir()
    return tmp_path


def deployment(project: Path, chalice: ChaliceCache, said: list[str]) -> Deployment:
    return Deployment(Stage.from_params("prod", EXAMPLE, "connect-guard"), chalice, said.append, project)


def test_both_zips_chalice_deploy_reuses_get_bytecode_once(project):
    chalice, said = ChaliceCache(project), list[str]()
    unrelated = chalice.cache / "appcode-old-python3.12.zip"  # another version's zip in the same cache: left alone
    chalice.cache.mkdir(parents=True)
    with zipfile.ZipFile(unrelated, "w") as archive:
        archive.writestr("app.py", "VALUE = 0\n")
    packaged = deployment(project, chalice, said).build_packages()
    assert packaged == set(chalice.sources) | {unrelated.name}
    assert all(bytecode.has_bytecode(chalice.cache / name) for name in chalice.sources)
    assert not bytecode.has_bytecode(unrelated)
    assert not (chalice.cache / "package-prod").exists(), "chalice package's copies are removed"
    assert sum("1 modules compiled" in line for line in said) == 2

    said.clear()
    deployment(project, chalice, said).build_packages()  # the next deploy: chalice reuses both, nothing to redo
    assert sum("has bytecode" in line for line in said) == 2


def test_a_zip_chalice_deploy_built_itself_is_named(project):
    chalice, said = ChaliceCache(project), list[str]()
    chalice.deploy_builds = "appcode-c3-python3.13.zip"
    steps = deployment(project, chalice, said)
    packaged = steps.build_packages()
    chalice.run(["chalice", "deploy"], {}, str(project))
    steps.check_packages_reused(packaged)
    assert said[-1] == (
        "  warning: chalice deploy built appcode-c3-python3.13.zip itself: deployed without bytecode "
        "(make deploy adds it)"
    )


def test_bytecode_failing_leaves_the_zips_as_chalice_built_them(project, monkeypatch):
    chalice, said = ChaliceCache(project), list[str]()

    def broken(package):
        raise OSError("disk full")

    monkeypatch.setattr(bytecode, "add_bytecode", broken)
    deployment(project, chalice, said).build_packages()
    assert said[-1] == "  warning: no bytecode added (OSError); deploying sources, cold starts compile them"
    for name, module in chalice.sources.items():
        with zipfile.ZipFile(chalice.cache / name) as archive:
            assert archive.namelist() == [module]
    assert not (chalice.cache / "package-prod").exists()
