"""Bytecode in the deployment packages: what a cold start pays to compile its imports when the zips hold sources
only (baseline: what `chalice deploy` uploads by itself) beside the same zips after `make deploy` added bytecode
(infra/bytecode.py), in the same run.

The packages are twins of the real ones built on this machine: the app zip as chalice assembles it (chalice's
runtime module, app.py, chalicelib) and a dependency zip of requirements.txt and everything it needs, from this
machine's installed distributions (the real layer holds the same versions as arm64 wheels, which cannot run
here). Each is unpacked read-only-style: every sample is a fresh `python -S -B` (no site-packages, nothing
written) with only the unpacked packages on its path, timing one cold import group. Budget: with bytecode, each
group costs at most 3/4 of its sources-only time.

Run alone: `python benchmarks/bench_bytecode.py` (or `python benchmarks/run_all.py --update bench_bytecode`).
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import statistics
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks import fresh_process  # noqa: E402
from infra import bytecode  # noqa: E402

RUNS = 5
BUDGET = 0.75
# One cold import group per row: what a Lambda's first invocation loads (chalicelib's wiring modules).
GROUPS = {
    "app module (every Lambda loads it)": "import app",
    "ivr_decryptor: Encryption SDK and its SSM client": (
        "import aws_encryption_sdk; from chalicelib import aws; aws.client('ssm')"
    ),
    "api_handler: its four AWS clients": (
        "from chalicelib import aws; [aws.client(s) for s in ('secretsmanager', 'dynamodb', 'connect', "
        "'connectparticipant')]"
    ),
    "attachment_scanner: S3 and Rekognition clients, olefile": (
        "import olefile; from chalicelib import aws; aws.client('s3'); aws.client('rekognition')"
    ),
    "requests (Graph API, customer files)": "import requests",
}
_CHILD = r"""
import json, sys, time
start = time.perf_counter()
exec(sys.argv[1])
elapsed = (time.perf_counter() - start) * 1000
import boto3
assert boto3.__file__.startswith(sys.argv[2]), boto3.__file__  # the unpacked layer, nothing else
print(json.dumps(elapsed))
"""


def _requirement_closure() -> list[metadata.Distribution]:
    from packaging.requirements import Requirement

    names = [
        Requirement(line).name
        for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    found: dict[str, metadata.Distribution] = {}
    while names:
        name = re.sub(r"[-_.]+", "-", names.pop()).lower()
        if name in found:
            continue
        found[name] = distribution = metadata.distribution(name)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                names.append(requirement.name)
    return list(found.values())


def _sources_only(name: str) -> bool:
    return not (name.endswith((".pyc", ".pyo")) or "__pycache__/" in name or name.startswith(".."))


def build_layer(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for distribution in _requirement_closure():
            for file in distribution.files or []:
                name = file.as_posix()
                located = Path(str(distribution.locate_file(file)))
                if _sources_only(name) and located.is_file():
                    archive.write(located, name)


def build_app(path: Path) -> None:
    """As chalice's AppOnlyDeploymentPackager assembles it: its runtime module, app.py, chalicelib."""
    import chalice
    import chalice.app

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(inspect.getfile(chalice.app), "chalice/app.py")
        archive.write(inspect.getfile(chalice), "chalice/__init__.py")
        archive.write(PROJECT_DIR / "app.py", "app.py")
        for file in sorted((PROJECT_DIR / "chalicelib").rglob("*")):
            name = file.relative_to(PROJECT_DIR).as_posix()
            if file.is_file() and _sources_only(name):
                archive.write(file, name)


def _unpacked_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        return sum(entry.file_size for entry in archive.infolist()) / 1e6


def sample(statement: str, task: Path, layer: Path) -> float:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{task}{os.pathsep}{layer}",
        **fresh_process.DUMMY_AWS,
    }
    return fresh_process.sample([sys.executable, "-S", "-B", "-c", _CHILD, statement, str(layer)], env, task)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cg-bench-bytecode-") as scratch:
        root = Path(scratch)
        sources = {"app": root / "app.zip", "layer": root / "layer.zip"}
        build_app(sources["app"])
        build_layer(sources["layer"])
        compiled = {kind: root / f"{kind}-bytecode.zip" for kind in sources}
        counts = {}
        for kind, path in sources.items():
            shutil.copy(path, compiled[kind])
            counts[kind] = bytecode.add_bytecode(compiled[kind])
        unpacked = {}
        for variant, zips in (("sources", sources), ("bytecode", compiled)):
            for kind, path in zips.items():
                target = root / variant / kind
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(target)
                unpacked[variant, kind] = target

        print("## Bytecode in the deployment packages (`benchmarks/bench_bytecode.py`)\n")
        print(
            f"Wall ms of each cold import group in a fresh `python -S -B`, median of {RUNS} runs, the two packagings "
            "interleaved run by run. Sources only is what `chalice deploy` uploads by itself; with bytecode is after "
            "`make deploy` added it (infra/bytecode.py).\n"
        )
        print("| cold import group | sources only (baseline) | with bytecode (ours) | ratio |")
        print("|---|---:|---:|---:|")
        verdicts = []
        for name, statement in GROUPS.items():
            plain, ours = [], []
            for _ in range(RUNS):
                plain.append(sample(statement, unpacked["sources", "app"], unpacked["sources", "layer"]))
                ours.append(sample(statement, unpacked["bytecode", "app"], unpacked["bytecode", "layer"]))
            plain_ms, ours_ms = statistics.median(plain), statistics.median(ours)
            print(f"| {name} | {plain_ms:.0f} | {ours_ms:.0f} | {ours_ms / plain_ms:.2f} |")
            verdicts.append((name, ours_ms, plain_ms))
        print()
        for kind in ("app", "layer"):
            modules, left = counts[kind]
            print(
                f"- {kind} zip: {modules} modules compiled, {left} left as source; "
                f"{sources[kind].stat().st_size / 1e6:.1f} MB -> {compiled[kind].stat().st_size / 1e6:.1f} MB zipped, "
                f"{_unpacked_mb(sources[kind]):.1f} MB -> {_unpacked_mb(compiled[kind]):.1f} MB unpacked "
                "(Lambda allows 250 MB unpacked for a function and its layers)"
            )
        print()
        for name, ours_ms, plain_ms in verdicts:
            ok = ours_ms <= BUDGET * plain_ms
            print(f"- {'PASS' if ok else 'MISS'}: {name}: {ours_ms:.0f} ms <= 3/4 of sources only ({plain_ms:.0f} ms)")


if __name__ == "__main__":
    main()
