"""The documentation cannot rot: the site builds strictly, the configuration page matches settings.py, and
nothing in the repository points outside it.

`mkdocs build --strict` (mkdocs.yml's `validation:` turns every problem into a warning, strict makes warnings
fatal) fails on a broken link or anchor, a page missing from the nav, a nav entry without a page, and a
`--8<--` include of a file or section that does not exist (benchmarks/RESULTS.md, tests/ examples).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIGURATION_PAGE = DOCS / "configuration.md"
# The _Reader methods through which settings.py reads a variable: `env.<method>("NAME", default, ...)`.
READER_METHODS = {"raw", "required", "text", "integer", "number", "flag", "choice", "csv"}
SKIP_DIRS = {".git", ".venv", "site", "node_modules", "artifacts", ".hypothesis", "__pycache__", ".chalice/deployed"}


def test_site_builds_strict(tmp_path):
    """`make docs`: any broken link, missing anchor, page left out of the nav or missing include fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        # Not --quiet: it drops warnings before --strict counts them, and a broken anchor then builds.
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(problems or [result.stderr[-3000:]])
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_is_in_the_nav():
    """Also checked by the strict build; stated here so the failure names the file."""
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.MULTILINE))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages - listed == set(), "pages missing from the nav in mkdocs.yml"
    assert listed - pages == set(), "nav entries without a page"


# ------------------------------------------------------------------------------------------ configuration page


def settings_variables() -> dict[str, object]:
    """Every variable settings.py reads, with its default when the code gives one (None: required/unset)."""
    tree = ast.parse(Path(settings.__file__).read_text())
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        name = node.args[0].value
        if not (isinstance(name, str) and re.fullmatch(r"[A-Z][A-Z0-9_]{2,}", name)) or name.startswith("AWS_"):
            continue  # AWS_* belong to boto3 and Chalice (documented under "Not settings")
        func = node.func
        is_reader = isinstance(func, ast.Attribute) and func.attr in READER_METHODS
        is_environ = isinstance(func, ast.Attribute) and func.attr == "get" and "environ" in ast.unparse(func.value)
        if not (is_reader or is_environ):
            continue
        default = None
        if (
            is_reader
            and isinstance(func, ast.Attribute)
            and func.attr not in ("raw", "required")
            and len(node.args) > 1
        ):
            try:
                default = eval(compile(ast.Expression(node.args[1]), "<default>", "eval"), vars(settings))  # noqa: S307
            except Exception:  # e.g. a class attribute: the page only has to name the variable
                default = None
        found.setdefault(name, default)
    return found


def documented_variables(page: Path = CONFIGURATION_PAGE) -> dict[str, str]:
    """`| `NAME` | default | meaning |` rows of the page: name -> default cell."""
    rows = {}
    for line in page.read_text().splitlines():
        match = re.match(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|([^|]*)\|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


def _rendered(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_configuration_page_lists_exactly_the_settings():
    code = settings_variables()
    page = documented_variables()
    assert code, "no variables found in settings.py: has the _Reader API changed? update READER_METHODS"
    missing = sorted(set(code) - set(page))
    stale = sorted(set(page) - set(code))
    assert not missing, f"add a row to docs/configuration.md for: {', '.join(missing)}"
    assert not stale, f"docs/configuration.md lists variables settings.py no longer reads: {', '.join(stale)}"


def test_configuration_page_defaults_match_the_code():
    page = documented_variables()
    wrong = []
    for name, default in settings_variables().items():
        if default is None or name not in page:
            continue
        cell = page[name]
        if default == "" and cell.startswith("empty"):
            continue
        if f"`{_rendered(default)}`" not in cell:
            wrong.append(f"{name}: code says {_rendered(default)!r}, page says {cell!r}")
    assert not wrong, "docs/configuration.md defaults differ from chalicelib/settings.py:\n" + "\n".join(wrong)


def test_settings_tables_elsewhere_name_real_variables():
    """Capability pages repeat their own settings; a renamed or removed variable must not linger there."""
    code = set(settings_variables())
    stale = []
    for page in DOCS.rglob("*.md"):
        for line in page.read_text().splitlines():
            match = re.match(r"^\|\s*`((?:%s)[A-Z0-9_]*)`\s*\|" % "|".join(settings._PREFIXES), line)
            if match and match.group(1) not in code:
                stale.append(f"{page.relative_to(ROOT)}: {match.group(1)}")
    assert not stale, "settings tables name variables settings.py does not read:\n" + "\n".join(stale)


# ------------------------------------------------------------------------------------------ the repository


def test_readme_fits_a_screen():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move detail into docs/"


def _text_files():
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS for part in rel.parts) or str(rel).startswith(".chalice/deployed"):
            continue
        if (
            path.is_file()
            and path.suffix
            in {".md", ".py", ".yml", ".yaml", ".json", ".txt", ".html", ".js", ".css", ".ini", ".toml", ".cfg", ""}
            and path.stat().st_size < 2_000_000
        ):
            try:
                yield rel, path.read_text()
            except UnicodeDecodeError:
                continue


# Spelled in two parts so this guard does not match itself.
SHARED_PARENT = "../" + "shared"


def test_nothing_points_outside_the_repository():
    """Users get the repository only: no path to the team's shared folder beside the checkout, no markdown link that leaves
    the repository, no citation of the unpublished REFERENCE.md anywhere (code cites docs/reference/*.md)."""
    outside = []
    for rel, text in _text_files():
        if rel == Path("tests/test_docs.py"):
            continue
        if SHARED_PARENT in text or "/work/shared" in text:
            outside.append(f"{rel}: {SHARED_PARENT}")
        if rel.suffix == ".md":
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                resolved = (ROOT / rel).parent.joinpath(target.split("#")[0]).resolve()
                if ROOT not in resolved.parents and resolved != ROOT:
                    outside.append(f"{rel}: link {target}")
                elif not resolved.exists():
                    outside.append(f"{rel}: broken link {target}")
        if "REFERENCE.md" in text:
            outside.append(f"{rel}: cites REFERENCE.md (cite docs/reference/*.md)")
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("name", ["LICENSE", "THIRD_PARTY.md", "CHANGELOG.md"])
def test_project_files_exist(name):
    assert (ROOT / name).is_file()


def test_every_data_folder_has_a_licence_and_is_listed():
    third_party = (ROOT / "THIRD_PARTY.md").read_text()
    for readme in list((ROOT / "tests" / "fixtures").glob("*/README.md")) + list(
        (ROOT / "benchmarks" / "data").glob("*/README.md")
    ):
        folder = readme.parent
        assert (folder / "LICENSE").is_file() or "licen" in readme.read_text().lower(), (
            f"{folder.relative_to(ROOT)} states no licence (a LICENSE file, or the licences in its README)"
        )
        assert f"{folder.relative_to(ROOT)}/" in third_party, f"list {folder.relative_to(ROOT)}/ in THIRD_PARTY.md"


def test_paths_named_in_the_docs_exist():
    """A file the docs name (`chalicelib/...`, `tests/...`) must exist: moved code takes its docs along."""
    pattern = re.compile(r"`((?:chalicelib|sandbox|tests|benchmarks|infra|tools|docs)/[A-Za-z0-9_./-]+)`")
    pages = [ROOT / "README.md", *DOCS.rglob("*.md")]
    missing = sorted(
        {
            f"{page.relative_to(ROOT)}: {path}"
            for page in pages
            for path in pattern.findall(page.read_text())
            if not (ROOT / path).exists()
        }
    )
    assert not missing, "the docs name paths that do not exist:\n" + "\n".join(missing)


def _anchors(page: Path) -> set[str]:
    """Explicit `{#id}` anchors and the slugs MkDocs gives headings (lowercase, punctuation dropped, `-` for spaces)."""
    anchors = set()
    for line in page.read_text().splitlines():
        anchors.update(re.findall(r"\{#([\w-]+)\}", line))
        heading = re.match(r"^#{1,6}\s+(.*?)\s*(?:\{#[\w-]+\})?\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\s-]", "", heading.group(1).lower()).strip()
            anchors.add(re.sub(r"[\s]+", "-", slug))
    return anchors


def test_citations_of_reference_pages_resolve():
    """Code comments cite `docs/reference/<page>.md#<anchor>`: the page and the anchor must exist."""
    cited = re.compile(r"docs/reference/([a-z0-9-]+\.md)(?:#([\w-]+))?")
    broken = []
    for rel, text in _text_files():
        for page, anchor in cited.findall(text):
            target = DOCS / "reference" / page
            if not target.is_file():
                broken.append(f"{rel}: docs/reference/{page} does not exist")
            elif anchor and anchor not in _anchors(target):
                broken.append(f"{rel}: docs/reference/{page}#{anchor} has no such anchor")
    assert not broken, "\n".join(sorted(set(broken)))
