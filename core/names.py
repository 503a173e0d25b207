"""The one rule for the names a person gives: models, datasets and their classes.

A name is 1 to 64 letters, digits, '-', '_' or '.', and starts with a letter or a digit: it is a folder
name on every system, never a path. `name_from` is for what a person types (words become
"my-first-model"; anything else must already fit). `slug` is for names made from other text, such as
an uploaded file's name, where every other run of characters becomes '-'.
"""
from __future__ import annotations

import re
import time

from core.errors import BadNameError

MAX_LENGTH = 64
PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_LENGTH - 1}}}$")
STAMP = "%Y%m%d-%H%M%S"


def check(name: str, what: str = "model") -> str:
    """`name` itself when it fits the rule; else a sentence saying what does."""
    if not isinstance(name, str) or not PATTERN.match(name):
        raise BadNameError(f"{name!r} is not a usable {what} name: use letters, digits, '-', '_' or '.', starting "
                         f"with a letter or a digit, at most {MAX_LENGTH} characters.")
    return name


def name_from(text: str, what: str = "model") -> str:
    """What a person typed as a name: surrounding space dropped, words joined by '-', then checked."""
    return check("-".join(text.split()), what)


def slug(text: str, fallback: str = "dataset", length: int = MAX_LENGTH) -> str:
    """A name made from any text: "Flowers (1).zip" → "Flowers-1-.zip" → trimmed to fit the rule."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:length].strip("-._")
    return name if name and PATTERN.match(name) else fallback


def stamped(stem: str) -> str:
    """`stem` with the time appended, within the length rule: a name for a model nobody named."""
    suffix = time.strftime(STAMP)
    return f"{slug(stem, 'model', MAX_LENGTH - len(suffix) - 4)}-{suffix}"
