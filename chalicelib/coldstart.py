"""A container's first invocation without CPython's cyclic garbage collector, then what it loaded frozen.

The first call of a cold container imports its libraries (the IVR decryptor: boto3, botocore, the Encryption SDK,
~110,000 objects that live as long as the container). Those allocations keep triggering the collector, which scans
the new module objects again and again and finds next to nothing: ~33 collections, 30-50 ms CPU of the IVR
decryptor's ~600 ms cold path (measured, Python 3.13). So the first invocation runs with the collector paused, and
then `gc.freeze()` moves every object alive into a generation no collection scans: the work is not deferred to the
next call, it is gone (a full collection afterwards also drops from ~30 ms to ~0). The price: the cyclic garbage of
that one invocation is never reclaimed (~2,000 objects, ~0.5 MB for the IVR decryptor, once per container).
Later invocations run with the collector as usual; reference counting frees memory throughout.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_first_done = False


@contextmanager
def first_invocation_without_gc() -> Iterator[None]:
    """The process's first pass through here runs with the collector paused and freezes what exists at its end;
    every later pass is a plain pass."""
    global _first_done
    with _lock:
        first, _first_done = not _first_done, True
    if not first:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
