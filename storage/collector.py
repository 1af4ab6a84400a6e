"""Pausing Python's cyclic garbage collector while bulk work holds many objects.

Imports (``storage.candidates.import_candidates``) and the enrichment stage build hundreds of
thousands of small rows, dicts and lists that hold no reference cycles, so reference counting
frees them anyway; but each of the collector's passes over the oldest objects walks every live
container, which cost a quarter of an import's CPU time and made ranking 200,000 candidates
several times slower. The pause is counted: nested or overlapping users (an enrich and an
import in one service process, threads included) leave the collector off until the last of
them ends, then on again if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # users running with the collector paused
_resume = False  # whether the collector was on when the first of them paused it


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the block runs (and any other such block), on again
    after the last one if it was on before the first. Callers that may leave cycles behind
    (ORM objects) collect them themselves between chunks (:func:`gc.collect`)."""
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
