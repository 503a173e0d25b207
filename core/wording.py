"""How the studio words a count, the same on every page and in the command line: "1 epoch", "2 epochs",
"1,204 images"."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` with its noun, plural (a plain -s unless told) unless there is exactly one."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
