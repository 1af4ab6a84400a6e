"""One pause of the cyclic garbage collector for imports and the enrichment stage: counted, so
that overlapping users (an enrich and an import in one service process) keep it off until the
last one ends, and it comes back on only if it was on before the first."""

from __future__ import annotations

import gc

from storage.collector import collector_paused


def test_overlapping_pauses_keep_the_collector_off_until_the_last_one_ends() -> None:
    assert gc.isenabled()
    first = collector_paused()
    second = collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused(), collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
