"""`make bench`: run every benchmarks/bench_*.py in its own fresh process and collect their reports.

Each bench script prints a Markdown section (its figures beside a baseline measured in the same run,
and a PASS/MISS line per budget) and exits 0. The combined report goes to stdout and to
benchmarks/RESULTS.md, from which the README's figures are copied.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(selected: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if any(name in s.stem for name in selected)]
    header = (
        f"# Benchmark results\n\nPython {platform.python_version()} on {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}; command: `make bench`.\n"
    )
    sections = [header]
    failed = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        sys.stderr.write(result.stderr[-4000:])
        sections.append(result.stdout.strip() + "\n")
        if result.returncode != 0:
            failed.append(script.name)
    report = "\n".join(sections)
    print(report)
    if not selected:
        (HERE / "RESULTS.md").write_text(report)
    if failed:
        print(f"benchmark scripts that failed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
