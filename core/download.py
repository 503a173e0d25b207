"""Fetch the PetImages zip from Microsoft with progress, check its size, unpack it into `data/`."""
from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

from core import config
from core.errors import DataError

PETIMAGES_URL = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"
)
PETIMAGES_MIN_BYTES = 700_000_000  # the real zip is about 786 MB; anything far smaller is an error page
CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def download(url: str, target: Path, progress: Progress | None = None, min_bytes: int = 0, timeout: float = 30) -> Path:
    """Download to `target` through a `.part` file; the final name appears only when complete and checked."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"The download from {url.split('/')[2]} failed ({reason}); is the internet reachable?") from None
    size = part.stat().st_size
    if (total is not None and size != total) or size < min_bytes:
        part.unlink(missing_ok=True)
        raise DataError(f"The download is incomplete ({size:,} bytes); try again.")
    os.replace(part, target)
    return target


def unpack(archive: Path, destination: Path, progress: Progress | None = None) -> None:
    """Unzip, refusing members that would land outside `destination`."""
    destination = Path(destination).resolve()
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            for number, member in enumerate(members):
                path = (destination / member.filename).resolve()
                if destination not in path.parents and path != destination:
                    raise DataError(f"The archive holds an unsafe path ({member.filename}); nothing more was unpacked.")
                bundle.extract(member, destination)
                if progress and (number % 200 == 0 or number == len(members) - 1):
                    progress(number + 1, len(members))
    except zipfile.BadZipFile:
        raise DataError(f"{archive.name} is not a valid zip archive.") from None


def find_class_root(folder: Path) -> Path:
    """The folder inside an unpacked archive that holds the class subfolders (e.g. PetImages/)."""
    folder = Path(folder)
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        subfolders = [p for p in candidate.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        if len(subfolders) >= 2 and all(any(f.is_file() for f in s.iterdir()) for s in subfolders):
            return candidate
    raise DataError("The archive does not hold a folder with one subfolder of images per class.")


def fetch_petimages(progress: Progress | None = None, url: str = PETIMAGES_URL, min_bytes: int = PETIMAGES_MIN_BYTES,
                    scan_progress: Progress | None = None) -> dict:
    """Download, unpack into data/PetImages, clean; returns the cleaning report."""
    from core import folders

    data = config.data_dir()
    try:
        archive = download(url, data / "kagglecatsanddogs.zip", progress, min_bytes=min_bytes)
    except DataError as exc:
        raise DataError(f"{exc} To put PetImages in place by hand, {folders.PETIMAGES_BY_HAND}.") from None
    staging = data / ".unpack-petimages"
    shutil.rmtree(staging, ignore_errors=True)
    unpack(archive, staging)
    root = find_class_root(staging)
    target = data / "PetImages"
    if target.exists():
        shutil.rmtree(target)
    os.replace(root, target)
    shutil.rmtree(staging, ignore_errors=True)
    archive.unlink(missing_ok=True)
    return folders.scan_folder(target, progress=scan_progress).report()
