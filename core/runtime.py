"""The process itself: TensorFlow's start-up kept quiet, freed memory handed back to the system, and what lives
as long as the process kept out of the garbage collector's way.

A newcomer reads oneDNN and cuInit notices as failures; `STUDIO_VERBOSE=1` (or the command line's
`--verbose`) brings them back.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import sys
import threading


def verbose() -> bool:
    return os.environ.get("STUDIO_VERBOSE", "") not in ("", "0")


def hide_tensorflow_warnings() -> None:
    """TensorFlow's Python warnings ("tf.function retracing") go to its own logger: keep them out of a
    server's log unless STUDIO_VERBOSE asks for them. Loads no TensorFlow."""
    if not verbose():
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up logs hidden (they bypass Python, so stderr's descriptor is muted)."""
    if verbose() or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the cuInit probe happens here, still muted
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    hide_tensorflow_warnings()


def once(build):
    """`functools.cache` for a function of no arguments that many threads may call first at the same moment (a
    class's first uploads): one thread builds, the others wait for its result instead of each building one."""
    lock = threading.Lock()
    cached = functools.cache(build)

    @functools.wraps(build)
    def get():
        with lock:
            return cached()

    return get


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
LARGE_BLOCK = 1 << 20


@functools.cache
def return_large_blocks_promptly() -> bool:
    """Make glibc give every block of 1 MB or more straight back to the system when it is freed.

    By default glibc raises that threshold each time a large block is freed (up to 32 MB), after which
    uploads, decoded photos and request bodies land in per-thread arenas it keeps: a server that
    took eight large photos would hold gigabytes it no longer uses. Once per process; glibc only."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return False
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))


_settling = threading.Lock()


def set_long_lived_aside() -> None:
    """Move every object alive now out of the cyclic garbage collector's sight (`gc.freeze`); called once a
    model or a dataset is loaded, the things that live as long as a server.

    Streamlit runs a full collection after every script run (`runner.postScriptGC`). With TensorFlow and two
    models loaded, that walks about 470,000 objects and holds the GIL for 0.5 s, after every rerun of every
    session: a class's answers queue up behind it. What was set aside before is taken back and collected
    first, so a model dropped from a cache since is still freed."""
    with _settling:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
