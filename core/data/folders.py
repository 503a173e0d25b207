"""Photo class folders: PetImages (`Cat/`, `Dog/`) or any folder with one subfolder per class.

Every file is decoded once; bad ones (zero bytes, not an image, `Thumbs.db`, undecodable)
are skipped and counted in a cleaning report. The clean index is cached on disk next to
the data and reused while the folder is unchanged.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from core import config
from core.atomic import write_cache_bytes
from core.data.splits import check_class_sizes, stratified_split
from core.errors import DataError, ImageError
from core.images import read_image_file

INDEX_VERSION = 3  # 3: the pipeline reads every file itself through core.images, so no converted copies
ORIENTATION, SIDEWAYS = 0x0112, (5, 6, 7, 8)  # the EXIF tag, and its values that turn a photo by 90°
SKIPPED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass
class ImageEntry:
    path: str  # the file the pipeline reads
    source: str  # the original file, relative to the dataset root
    label: int
    width: int
    height: int
    format: str


@dataclass
class FolderIndex:
    root: str
    class_names: list[str]
    entries: list[ImageEntry]
    skipped: list[dict] = field(default_factory=list)  # {"file", "reason"}
    signature: str = ""

    def report(self) -> dict:
        """The cleaning report: counts by reason and per class, and the files that were dropped."""
        reasons = Counter(item["reason"] for item in self.skipped)
        kept = Counter(self.class_names[e.label] for e in self.entries)
        return {
            "root": self.root,
            "kept": len(self.entries),
            "skipped": len(self.skipped),
            "kept_per_class": {name: kept.get(name, 0) for name in self.class_names},
            "skipped_by_reason": dict(reasons),
            "skipped_files": self.skipped,
        }


def class_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"The folder {root} does not exist.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise DataError(
            f"{root} must hold one subfolder per class, at least two (for example Cat/ and Dog/); "
            f"it has {len(folders)}."
        )
    return folders


def check_has_images(root: Path) -> None:
    """Refuse a class folder in which some class holds no readable image (a quick look, not a full scan)."""
    for folder in class_folders(root):
        files = (p for p in sorted(folder.iterdir()) if p.is_file())
        if not any(_check_file(path)[0] is None for path in files):
            raise DataError(f"The class folder {folder.name!r} holds no image this studio can read "
                            "(JPEG, PNG, GIF, BMP, WebP or TIFF).")


def _signature(folders: list[Path]) -> str:
    """Changes when any file is added, removed, renamed or rewritten."""
    digest = hashlib.sha256()
    for folder in folders:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_file():
                stat = entry.stat()
                digest.update(f"{folder.name}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _index_cache_path(root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return config.data_dir() / ".index" / f"{root.name}-{key}"


def _check_file(path: Path) -> tuple[str | None, object]:
    """(reason to skip or None, decoded image)."""
    if path.name.lower() in SKIPPED_NAMES:
        return "system file", None
    try:
        if path.stat().st_size == 0:
            return "empty file", None
        image = read_image_file(path)
    except ImageError as exc:
        text = str(exc)
        return ("not an image" if "not an image" in text else "undecodable"), None
    return None, image


def scan_folder(root: Path, progress=None) -> FolderIndex:
    """Decode every file once and build the clean index, or reuse the cached one if nothing changed."""
    root = Path(root)
    folders = class_folders(root)
    signature = _signature(folders)
    cache = _index_cache_path(root)
    cached = _read_index(cache / "index.json", signature)
    if cached is not None:
        return cached
    files = [(label, path) for label, folder in enumerate(folders)
             for path in sorted(folder.iterdir()) if path.is_file()]
    entries, skipped = [], []
    for number, (label, path) in enumerate(files):
        reason, image = _check_file(path)
        relative = str(path.relative_to(root))
        if reason:
            skipped.append({"file": relative, "reason": reason})
        else:
            fmt, width, height = _header(path)
            entries.append(ImageEntry(str(path), relative, label, width or image.width, height or image.height, fmt))
        if progress and (number % 50 == 0 or number == len(files) - 1):
            progress(number + 1, len(files))
    if not entries:
        raise DataError(f"No usable image was found in {root}: each class subfolder must hold photos "
                        "(JPEG, PNG, GIF, BMP, WebP or TIFF).")
    index = FolderIndex(str(root), [f.name for f in folders], entries, skipped, signature)
    _write_index(cache / "index.json", index)
    return index


def _header(path: Path) -> tuple[str, int, int]:
    """The file's real format and its full size, upright, from its header (decoding already succeeded once and
    may have reduced a large photo)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.getexif().get(ORIENTATION, 1) in SIDEWAYS:
                width, height = height, width
            return (image.format or "").upper(), width, height
    except Exception:  # noqa: BLE001 - only informative here
        return "", 0, 0


def _read_index(path: Path, signature: str) -> FolderIndex | None:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if raw.get("version") != INDEX_VERSION or raw.get("signature") != signature:
        return None
    return FolderIndex(
        raw["root"], raw["class_names"], [ImageEntry(**e) for e in raw["entries"]], raw["skipped"], signature
    )


def _write_index(path: Path, index: FolderIndex) -> None:
    payload = {"version": INDEX_VERSION, **asdict(index)}
    write_cache_bytes(path, json.dumps(payload).encode())  # a read-only data folder only costs a rescan


def split_index(index: FolderIndex, val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = config.SEED):
    """A stratified train/validation/test split with a fixed seed: three lists of entries, each holding
    every class (a class too small for that is refused with its name)."""
    entries = index.entries
    check_class_sizes(index.class_names, [e.label for e in entries])
    rest, test = stratified_split(entries, [e.label for e in entries], test_fraction, seed)
    train, val = stratified_split(rest, [e.label for e in rest], val_fraction / (1 - test_fraction), seed)
    return train, val, test


def fingerprint(index: FolderIndex) -> str:
    return "folder:" + index.signature
