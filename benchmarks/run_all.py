"""`make bench`: run every benchmarks/bench_*.py in its own fresh process and collect their reports.

Each bench script prints a Markdown section (its figures beside a baseline measured in the same run,
and a PASS/MISS line per budget) and exits 0. The combined report goes to stdout and to
benchmarks/RESULTS.md, the one source of every figure: the docs include it (whole on docs/benchmarks.md,
one section per capability page) with pymdownx.snippets, so no figure is ever typed twice.

RESULTS.md layout, made here:
- a "Budgets at a glance" list: every PASS/MISS line of every section, copied from the sections below;
- each script's section between snippet markers `<!-- --8<-- [start:<script stem>] -->` and `[end:...]`,
  which is what pages include as `--8<-- "benchmarks/RESULTS.md:bench_inbound"`.

`python benchmarks/run_all.py --reformat` rebuilds that layout from an existing RESULTS.md without running
anything (sections are matched to scripts in sorted order, as a full run writes them).
`python benchmarks/run_all.py --update <name>...` runs only the matching scripts and replaces (or adds) their
sections in RESULTS.md, keeping everything else as it was (sections not named after a script included); the header
keeps one line naming each section measured alone since the full run, with the date it last was (rewritten by each
update, never appended to; a full run starts without it).
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
_VERDICT = re.compile(r"^\s*(?:- )?(?:\*\*)?(PASS|MISS)(?:\*\*)?[:\s]")
_MARKER = re.compile(r"^<!-- --8<-- \[(?:start|end):[\w-]+\] -->\n?", re.MULTILINE)
_ALONE = "Sections measured alone since the full run (`run_all.py --update`)"
_ALONE_LINE = re.compile(rf"^{re.escape(_ALONE)}: (.*)\.\n?", re.MULTILINE)
_ALONE_ENTRY = re.compile(r"([\w-]+) \(([^)]*)\)")
# What --update wrote before the one line: a line per run, appended.
_LEGACY_LINE = re.compile(
    r"^Sections updated alone on (\S+) \(`run_all\.py --update`, Python ([^)]+)\): (.*)\.\n?", re.MULTILINE
)


def compose(header: str, sections: list[tuple[str, str]]) -> str:
    """The RESULTS.md text: header, budgets at a glance, then each (script stem, section) between markers."""
    glance = ["## Budgets at a glance", "", "Every budget line of the sections below, in one place.", ""]
    for stem, text in sections:
        title = next((line[3:].strip() for line in text.splitlines() if line.startswith("## ")), stem)
        for line in text.splitlines():
            if _VERDICT.match(line):
                verdict = line.strip().removeprefix("- ").strip()
                glance.append(f"- {title}: {verdict}")
    parts = [header.strip() + "\n", "\n".join(glance) + "\n"]
    for stem, text in sections:
        parts.append(f"<!-- --8<-- [start:{stem}] -->\n{text.strip()}\n<!-- --8<-- [end:{stem}] -->\n")
    return "\n".join(parts)


def reformat(path: Path = RESULTS) -> str:
    """Re-lay an existing RESULTS.md (markers and glance recomputed; figures untouched)."""
    text = _MARKER.sub("", path.read_text())
    text = re.sub(r"^## Budgets at a glance\n.*?(?=^## )", "", text, flags=re.MULTILINE | re.DOTALL)
    chunks = re.split(r"(?m)^(?=## )", text)
    header, bodies = chunks[0], chunks[1:]
    stems = [s.stem for s in sorted(HERE.glob("bench_*.py"))]
    if len(bodies) != len(stems):
        raise SystemExit(f"RESULTS.md has {len(bodies)} sections for {len(stems)} bench scripts: run `make bench`")
    return compose(header, list(zip(stems, bodies)))


def sections_of(text: str) -> tuple[str, dict[str, str]]:
    """(header, {script stem: section}) of a RESULTS.md written by compose()."""
    header = text.split("## Budgets at a glance", 1)[0]
    found = dict(re.findall(r"<!-- --8<-- \[start:([\w-]+)\] -->\n(.*?)<!-- --8<-- \[end:\1\] -->", text, re.DOTALL))
    return header, found


def update(selected: list[str]) -> int:
    """Run the selected scripts; splice their sections into RESULTS.md (sorted by script, like a full run)."""
    header, found = sections_of(RESULTS.read_text())
    scripts = [s for s in sorted(HERE.glob("bench_*.py")) if any(name in s.stem for name in selected)]
    failed = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        sys.stderr.write(result.stderr[-4000:])
        if result.returncode != 0:
            failed.append(script.name)
            continue
        found[script.stem] = result.stdout.strip() + "\n"
    updated = {s.stem: found[s.stem] for s in scripts if s.name not in failed}
    header = measured_alone(header, list(updated), time.strftime("%Y-%m-%d"), platform.python_version())
    RESULTS.write_text(splice(RESULTS.read_text(), header, updated))
    return 1 if failed else 0


def measured_alone(header: str, stems: list[str], date: str, python: str) -> str:
    """`header` with its one line of sections measured alone since the full run: `stems` dated `date`, the others
    as they were. An entry names the Python version only when it is not the full run's. Older headers' appended
    "Sections updated alone on ..." lines (one a run, appended) are folded into it, the latest date winning."""
    full_run_python = re.search(r"^Python (\S+) on ", header, re.MULTILINE)

    def when(day: str, version: str) -> str:
        return day if full_run_python and version == full_run_python.group(1) else f"{day}, Python {version}"

    dates: dict[str, str] = {}

    def measured(stem: str, entry: str) -> None:  # an entry starts with its ISO date: the latest one stays
        if stem and entry[:10] >= dates.get(stem, "")[:10]:
            dates[stem] = entry

    for day, version, names in _LEGACY_LINE.findall(header):
        for stem in names.split(","):
            measured(stem.strip(), when(day, version))
    for entries in _ALONE_LINE.findall(header):
        for stem, entry in _ALONE_ENTRY.findall(entries):
            measured(stem, entry)
    for stem in stems:
        measured(stem, when(date, python))
    header = _ALONE_LINE.sub("", _LEGACY_LINE.sub("", header))
    header = re.sub(r"\n{3,}", "\n\n", header).rstrip() + "\n"
    if not dates:
        return header
    entries = ", ".join(f"{stem} ({dates[stem]})" for stem in sorted(dates))
    return f"{header}\n{_ALONE}: {entries}.\n"


def splice(text: str, header: str, found: dict[str, str]) -> str:
    """`text` with each marked section replaced by `found`'s (new ones appended) and the glance recomputed;
    everything else (sections not named after a script, text between sections) is kept as it was."""
    for stem, section in found.items():
        marked = re.compile(
            rf"(<!-- --8<-- \[start:{re.escape(stem)}\] -->\n).*?(<!-- --8<-- \[end:{re.escape(stem)}\] -->)", re.DOTALL
        )
        body = section.strip() + "\n"
        if marked.search(text):
            text = marked.sub(lambda m: m.group(1) + body + m.group(2), text, count=1)
        else:
            text = text.rstrip() + f"\n\n<!-- --8<-- [start:{stem}] -->\n{body}<!-- --8<-- [end:{stem}] -->\n"
    rest = text[text.index("<!-- --8<-- [start:") :]
    _, sections = sections_of(text)
    return compose(header, list(sections.items())).split("<!-- --8<-- [start:", 1)[0] + rest


def main(selected: list[str]) -> int:
    if {"-h", "--help"} & set(selected):  # was read as a script name matching nothing
        print(__doc__)
        return 0
    if selected == ["--reformat"]:
        RESULTS.write_text(reformat())
        return 0
    if selected[:1] == ["--update"]:
        return update(selected[1:])
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if any(name in s.stem for name in selected)]
    header = (
        f"# Benchmark results\n\nPython {platform.python_version()} on {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}; command: `make bench`.\n"
    )
    sections: list[tuple[str, str]] = []
    failed = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        sys.stderr.write(result.stderr[-4000:])
        sections.append((script.stem, result.stdout.strip() + "\n"))
        if result.returncode != 0:
            failed.append(script.name)
    report = compose(header, sections)
    print(report)
    if not selected:
        RESULTS.write_text(report)
    if failed:
        print(f"benchmark scripts that failed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
