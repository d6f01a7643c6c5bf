"""Compiled bytecode inside the deployment packages, so that a cold start does not compile what it imports.

Chalice zips sources: the wheels it unpacks into the dependency layer carry no `.pyc`, and the app zip holds
whatever `__pycache__` the project directory happens to have (timestamps of this machine, maybe another Python).
A Lambda's `/var/task` and `/opt` are read-only, so Python compiles every module it imports on every cold start
and keeps nothing. `benchmarks/bench_bytecode.py` measures what that costs.

`add_bytecode` rewrites one zip with a checked-hash `.pyc` beside each `.py` (PEP 552) and drops every old
`__pycache__`. Checked: Python hashes the source and uses the bytecode only if it was compiled from exactly
that source, so a module edited in place (the Lambda console's editor, a patched zip) runs as edited; the hash
costs a few per cent of what compiling does. The bytecode is this interpreter's, named with its cache tag, and
compiled unoptimized whatever PYTHONOPTIMIZE or PYTHONPYCACHEPREFIX say: chalice picks the Lambda runtime from
the Python it runs under (3.13 for this project), and a runtime with another magic number ignores the files and
compiles as before.
"""

from __future__ import annotations

import os
import posixpath
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


def cached_name(source: str) -> str:
    """Where the importer looks for a module's bytecode: `dir/__pycache__/<stem>.<cache tag>.pyc`."""
    directory, file = posixpath.split(source)
    return posixpath.join(directory, "__pycache__", f"{file.removesuffix('.py')}.{sys.implementation.cache_tag}.pyc")


def add_bytecode(package: Path) -> tuple[int, int]:
    """Rewrites `package` in place (atomically: on any error the original stays as it was); returns (modules
    compiled, sources left to compile at import: syntax this Python rejects, e.g. a vendored file for another
    version)."""
    compiled = skipped = 0
    rewritten = package.with_name(package.name + ".bytecode")
    try:
        with (
            zipfile.ZipFile(package) as source,
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target,
            tempfile.TemporaryDirectory(prefix="cg-bytecode-") as scratch,
        ):
            for entry in source.infolist():
                if "__pycache__/" in entry.filename:  # caches of whoever built it; a sourceless .pyc elsewhere stays
                    continue
                data = source.read(entry)
                target.writestr(entry, data)  # the entry's own date, mode and compression
                if entry.filename.endswith(".py") and not entry.is_dir():
                    bytecode = _compile(data, entry.filename, Path(scratch))
                    if bytecode is None:
                        skipped += 1
                        continue
                    cached = zipfile.ZipInfo(cached_name(entry.filename), entry.date_time)
                    cached.external_attr = 0o644 << 16
                    target.writestr(cached, bytecode, zipfile.ZIP_DEFLATED)
                    compiled += 1
            target.comment = MARK
        os.replace(rewritten, package)
    finally:
        rewritten.unlink(missing_ok=True)
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
                optimize=0,  # asserts kept, as the runtime runs them
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
    except py_compile.PyCompileError:
        return None
    return bytecode_file.read_bytes()
