"""Compiled bytecode inside the deployment packages, so that a cold start does not compile what it imports.

Chalice zips sources: the wheels it unpacks into the dependency layer carry no `.pyc`, and the app zip holds
whatever `__pycache__` the project directory happens to have (timestamps of this machine, maybe another Python).
A Lambda's `/var/task` and `/opt` are read-only, so Python compiles every module it imports on every cold start
and keeps nothing. `benchmarks/bench_bytecode.py` measures what that costs.

`add_bytecode` rewrites one zip with an unchecked-hash `.pyc` beside each `.py` (PEP 552): the package never
changes once built, so Python loads the bytecode without reading or hashing the source; every old `__pycache__`
entry is dropped. The bytecode is this interpreter's: chalice picks the Lambda runtime from the Python it runs
under (3.13 here), so the cache tag and magic number match the runtime's by construction.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

# Written as the zip's comment once bytecode is in: a package chalice reuses from its cache is not redone.
MARK = f"connect-guard bytecode {sys.implementation.cache_tag}".encode()


def has_bytecode(package: Path) -> bool:
    with zipfile.ZipFile(package) as archive:
        return archive.comment == MARK


def _is_old_bytecode(name: str) -> bool:
    return name.endswith((".pyc", ".pyo")) or "__pycache__/" in name


def add_bytecode(package: Path) -> tuple[int, int]:
    """Rewrites `package` in place; returns (modules compiled, sources left to compile at import: syntax this
    Python rejects, e.g. a vendored file for another version)."""
    compiled = skipped = 0
    rewritten = package.with_name(package.name + ".bytecode")
    with (
        zipfile.ZipFile(package) as source,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target,
        tempfile.TemporaryDirectory(prefix="cg-bytecode-") as scratch,
    ):
        work = Path(scratch)
        for entry in source.infolist():
            if _is_old_bytecode(entry.filename):
                continue
            data = source.read(entry)
            target.writestr(entry, data)  # the entry's own date, mode and compression
            if entry.filename.endswith(".py") and not entry.is_dir():
                bytecode = _compile(data, entry.filename, work)
                if bytecode is None:
                    skipped += 1
                    continue
                cached = zipfile.ZipInfo(importlib.util.cache_from_source(entry.filename), entry.date_time)
                cached.external_attr = 0o644 << 16
                target.writestr(cached, bytecode, zipfile.ZIP_DEFLATED)
                compiled += 1
        target.comment = MARK
    os.replace(rewritten, package)
    return compiled, skipped


def _compile(source: bytes, name: str, work: Path) -> bytes | None:
    source_file, bytecode_file = work / "module.py", work / "module.pyc"
    source_file.write_bytes(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # vendored code's SyntaxWarnings are not deploy output
            py_compile.compile(
                str(source_file),
                cfile=str(bytecode_file),
                dfile=name,  # tracebacks name the file as packaged; the importer corrects it to the real path
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
    except py_compile.PyCompileError:
        return None
    return bytecode_file.read_bytes()
