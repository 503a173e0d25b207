"""Reading a file a person names: only a regular file, and never more of it than a bound.

Opening a FIFO waits for ever, /dev/zero never ends, and a 3 GB file read whole fills memory: each is
refused with a sentence before it is read. `kind` is the error class the caller answers with."""
from __future__ import annotations

import os
import stat

from core.errors import StudioError


def check_regular(path, kind: type[StudioError] = StudioError, what: str = "file") -> int:
    """The size of `path` when it is a regular file; else `kind` with a sentence."""
    try:
        mode_and_size = os.stat(path)
    except OSError as exc:
        raise kind(f"The {what} cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(mode_and_size.st_mode):
        raise kind(f"This is a folder, not a {what}.")
    if not stat.S_ISREG(mode_and_size.st_mode):
        raise kind("This is not a regular file (a pipe, socket or device); only regular files can be read.")
    return mode_and_size.st_size


def read_regular(path, limit: int, kind: type[StudioError] = StudioError, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; else `kind` with a sentence."""
    if check_regular(path, kind, what) > limit:
        raise kind(f"The {what} is larger than the {limit / 1e6:,.0f} MB this studio reads.")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise kind(f"The {what} cannot be read ({exc.strerror or exc}).") from None
    if len(data) > limit:  # it grew while we looked
        raise kind(f"The {what} is larger than the {limit / 1e6:,.0f} MB this studio reads.")
    return data
