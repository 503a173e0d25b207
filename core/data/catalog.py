"""What datasets exist: their specs, names, kinds, where each lives on disk, and where to download it.

A dataset is named by a spec: `mnist`, `fashion` (Fashion-MNIST), `catsdogs` (PetImages),
`cats_and_dogs_filtered`, a folder with one subfolder per class (given as a path, or relative to the data folder,
like `custom/flowers`), or a Kaggle Digit Recognizer `train.csv`. Adding a dataset kind starts here; `specs`
loads it and `acquire` fetches it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import config

FILTERED = "cats_and_dogs_filtered"
CUSTOM = "custom"  # a person's datasets: `custom/<name>`, relative to their workspace's data folder
BUILT_IN = ("mnist", "fashion", "catsdogs", FILTERED)
NAMES = {"mnist": "MNIST handwritten digits", "fashion": "Fashion-MNIST clothing",
         "catsdogs": "Cats vs Dogs (PetImages)", FILTERED: "Cats vs Dogs (cats_and_dogs_filtered)"}


@dataclass(frozen=True)
class Source:
    """A dataset that can be downloaded: where from, about how big, and what to do by hand."""

    spec: str
    fetch_name: str  # what `python -m core data fetch` calls it
    url: str
    min_bytes: int  # anything far smaller is an error page, not the archive
    by_hand: str


SOURCES = {
    "catsdogs": Source(
        "catsdogs", "petimages",
        "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
        700_000_000,
        "unpack Microsoft's kagglecatsanddogs_5340.zip so that data/PetImages/Cat and data/PetImages/Dog exist, "
        "or point PETIMAGES_DIR at such a folder"),
    FILTERED: Source(
        FILTERED, FILTERED,
        "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
        60_000_000,
        "unpack cats_and_dogs_filtered.zip so that data/cats_and_dogs_filtered/train and .../validation exist, "
        "or point CATSDOGS_FILTERED_DIR at such a folder"),
}
FETCH_NAMES = {**{s.fetch_name: s.spec for s in SOURCES.values()}, **{s.spec: s.spec for s in SOURCES.values()}}


def describe_spec(spec: str) -> str:
    """A name for people: the built-in datasets by title, a folder or CSV by its own name."""
    return NAMES.get(spec) or Path(spec).name


# What a dataset holds. Digits and clothing are both 28x28 grey arrays in the MNIST format; only digits get the
# digit gate, the digit preprocessing and numbers split into digits.
GREY_KINDS = ("digits", "clothing")


def kind_of(spec: str) -> str:
    """Digits, clothing or photos, from the spec alone (no loading)."""
    if spec == "fashion":
        return "clothing"
    return "digits" if spec == "mnist" or spec.endswith(".csv") else "photos"


def is_grey(kind: str) -> bool:
    """Whether a kind of data is 28x28 grey arrays (one channel) rather than colour photos in files."""
    return kind in GREY_KINDS


def folder_of(spec: str, data_root: Path | None = None) -> Path:
    """The class folder behind a photo spec; a relative one is looked for in `data_root` (the data folder)."""
    if spec == "catsdogs":
        return config.petimages_dir()
    if spec == FILTERED:
        return config.catsdogs_filtered_dir()
    path = Path(spec).expanduser()
    inside_data = (data_root or config.data_dir()) / path
    return inside_data if not path.is_absolute() and inside_data.is_dir() else path


def photo_roots(spec: str) -> list[Path]:
    """The class folders behind a photo spec (cats_and_dogs_filtered has two: train/ and validation/)."""
    root = folder_of(spec)
    return [root / "train", root / "validation"] if spec == FILTERED else [root]


def portable_spec(spec: str, data_root: Path | None = None) -> str:
    """The spec to record in meta.json: a folder under the data folder (`data_root`) relative to it, never this
    machine's path."""
    if spec in BUILT_IN:
        return spec
    path = Path(spec).expanduser()
    try:
        return str(path.resolve().relative_to((data_root or config.data_dir()).resolve()))
    except ValueError:
        return spec


def is_present(spec: str) -> bool:
    """Whether a dataset can be loaded without a download (MNIST is checked by loading it)."""
    return is_grey(kind_of(spec)) or folder_of(spec).is_dir()


def missing_sentence(spec: str, root: Path) -> str:
    """What to say when a dataset's folder is not there: how to fetch it, or how to place it by hand."""
    source = SOURCES.get(spec)
    if source:
        return (f"{describe_spec(spec)} was not found at {root}: run python -m core data fetch {source.fetch_name} "
                f"(or use the Overview page's Download button), or {source.by_hand}.")
    return (f"There is no dataset called {spec!r}: use mnist, fashion, catsdogs, cats_and_dogs_filtered, a Kaggle "
            "train.csv, or a folder with one subfolder per class.")


def custom_specs(data_root: Path | None = None) -> list[str]:
    """Every class folder a person added under custom/ of the data folder (built in the browser or imported
    from a zip)."""
    root = (data_root or config.data_dir()) / CUSTOM
    if not root.is_dir():
        return []
    return sorted(f"{CUSTOM}/{p.name}" for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def has_images(spec: str, data_root: Path | None = None) -> bool:
    """Whether a person's dataset holds at least one file in a class folder (an empty one is not offered)."""
    folder = (data_root or config.data_dir()) / spec
    return any(child.is_dir() and any(f.is_file() for f in child.iterdir()) for child in folder.iterdir())


def known_specs(data_root: Path | None = None) -> list[str]:
    """The datasets to offer: the built-in ones and every class folder a person added that holds images."""
    return [*BUILT_IN, *(spec for spec in custom_specs(data_root) if has_images(spec, data_root))]
