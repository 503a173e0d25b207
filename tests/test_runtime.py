"""The process itself: what lives as long as the server is set aside from the garbage collector."""
from __future__ import annotations

import concurrent.futures
import gc
import time
import weakref

from core import runtime


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self):
        self.me = self


def test_setting_aside_frees_the_garbage_first_and_freezes_what_lives():
    dropped, kept = Node(), Node()
    gone, alive = weakref.ref(dropped), weakref.ref(kept)
    del dropped
    try:
        runtime.set_long_lived_aside()
        assert gone() is None and alive() is kept
        assert gc.get_freeze_count() > 0
        assert all(o is not kept for o in gc.get_objects())  # a full collection no longer walks it
    finally:
        gc.unfreeze()


def test_what_was_set_aside_and_dropped_since_is_freed_at_the_next_setting_aside():
    evicted = Node()  # a model a cache lets go of later
    ref = weakref.ref(evicted)
    try:
        runtime.set_long_lived_aside()
        del evicted
        gc.collect()
        assert ref() is not None  # frozen: the collector does not see it
        runtime.set_long_lived_aside()
        assert ref() is None
    finally:
        gc.unfreeze()


def test_once_builds_one_thing_for_threads_that_ask_at_the_same_moment():
    builds = []

    @runtime.once
    def heavy():
        time.sleep(0.2)  # a backbone being built while more sessions ask for it
        builds.append(object())
        return builds[-1]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: heavy(), range(8)))
    assert len(builds) == 1 and all(r is builds[0] for r in results)
