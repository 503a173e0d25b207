"""Getting datasets onto the disk: downloads with progress, bounded zip unpacking, and zip imports.

Downloads go through a `.part` file and appear under their name only when complete. Archives
(downloaded or uploaded) are unpacked under limits on size, ratio, member count and name length,
so a small zip can never fill the disk, and a refused import leaves nothing behind.
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core import config, names
from core.data import catalog, folders, specs
from core.errors import DataError, StudioError

CHUNK = 1 << 20
Progress = Callable[[int, int | None], None]  # (done so far, total or None)


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may unpack to. The total is configurable with `STUDIO_MAX_UNPACK_BYTES`."""

    total_bytes: int = field(default_factory=config.max_unpack_bytes)
    # A member, or the archive as a whole, that expands more than this is a zip bomb, not photos. Only past
    # `bulk` bytes: a small plain BMP or text file compresses far better than that, harmlessly.
    ratio: float = 100.0
    bulk: int = 50_000_000
    members: int = 200_000
    name_length: int = 255


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
        reason = getattr(reason, "strerror", None) or (reason if isinstance(reason, str) else "no answer")
        host = url.split("/")[2]
        raise DataError(f"The download from {host} failed ({reason}); is the internet reachable?") from None
    size = part.stat().st_size
    if (total is not None and size != total) or size < min_bytes:
        part.unlink(missing_ok=True)
        raise DataError(f"The download is incomplete ({size:,} bytes); try again.")
    os.replace(part, target)
    return target


def _check_members(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The members worth unpacking, after refusing the archive as a whole if any limit is passed."""
    if len(members) > limits.members:
        raise DataError(f"The archive holds {len(members):,} entries, more than the {limits.members:,} allowed.")
    total, packed, kept, seen = 0, 0, [], {}
    for member in members:
        name = member.filename
        if name.startswith("__MACOSX/") or Path(name).name == ".DS_Store":
            continue  # what macOS's Finder adds to every zip it makes: never images
        if any(len(part) > limits.name_length for part in name.split("/")):
            raise DataError(f"The archive holds a name longer than {limits.name_length} characters; "
                            "shorten it and zip again.")
        if member.flag_bits & 0x1:
            raise DataError(f"{Path(name).name} in the archive is encrypted; zip the images without a password.")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            raise DataError(f"{Path(name).name} in the archive is compressed with a method this studio cannot "
                            "read; zip it again with the usual (deflate) compression.")
        kind = stat.S_IFMT(member.external_attr >> 16)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            continue  # symlinks, devices, FIFOs: never unpacked
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.ratio and member.file_size > 1_000_000:
            raise DataError(f"{Path(name).name} in the archive expands {ratio:,.0f} times: that is a zip bomb, "
                            "not an image. Nothing was unpacked.")
        total += member.file_size
        packed += member.compress_size
        if total > limits.total_bytes:
            raise DataError(f"The archive unpacks to more than {limits.total_bytes / 1e9:.1f} GB, more than this "
                            "studio accepts. Nothing was unpacked.")
        _check_no_clash(name, member.is_dir(), seen)
        kept.append(member)
    if total > limits.bulk and total / max(packed, 1) > limits.ratio:
        raise DataError(f"The archive expands {total / max(packed, 1):,.0f} times in all, to {total / 1e9:.1f} GB: "
                        "that is a zip bomb, not photos. Nothing was unpacked.")
    return kept


def _check_room(adding: int, root: Path) -> None:
    """Refuse an import that would take all datasets built or imported in a workspace (`root`) past their
    configured total."""
    cap = config.max_custom_bytes()
    held = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) if root.is_dir() else 0
    if held + adding > cap:
        raise DataError(f"The datasets here already hold {held / 1e9:.1f} GB; this archive would take them past "
                        f"the {cap / 1e9:.1f} GB this studio allows (STUDIO_MAX_CUSTOM_BYTES). Remove a dataset "
                        "first. Nothing was unpacked.")


def _check_no_clash(name: str, is_dir: bool, seen: dict[str, bool]) -> None:
    """Refuse a path used both as a file and as a folder, also when the folder is only implied by a longer path."""
    parts = name.rstrip("/").split("/")
    for depth in range(1, len(parts) + 1):
        path, as_dir = "/".join(parts[:depth]), depth < len(parts) or is_dir
        if seen.setdefault(path.lower(), as_dir) != as_dir:
            raise DataError(f"The archive holds {path} both as a file and as a folder.")


def unpack(archive: Path, destination: Path, progress: Progress | None = None,
           limits: ArchiveLimits | None = None) -> None:
    """Unzip under `limits`, refusing members that would land outside `destination`."""
    destination = Path(destination).resolve()
    limits = limits or ArchiveLimits()
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = _check_members(bundle.infolist(), limits)
            for number, member in enumerate(members):
                path = (destination / member.filename).resolve()
                if destination not in path.parents and path != destination:
                    raise DataError(f"The archive holds an unsafe path ({member.filename}); nothing was kept.")
                _extract(bundle, member, path)
                if progress and (number % 200 == 0 or number == len(members) - 1):
                    progress(number + 1, len(members))
    except zipfile.BadZipFile:
        raise DataError(f"{Path(archive).name} is not a valid zip archive.") from None
    except (NotImplementedError, RuntimeError, zipfile.LargeZipFile):
        raise DataError("The archive uses a feature this studio cannot read (encryption or an unusual "
                        "compression); zip the images again with the usual settings.") from None
    except OSError as exc:
        reason = exc.strerror or "a file could not be written"
        raise DataError(f"The archive could not be unpacked ({reason}).") from None


def _extract(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> None:
    """Copy one member, stopping at its declared size: a lying header cannot write more than it declared,
    and a member whose bytes are not what it declares, or whose compressed data is corrupt, refuses the
    archive with its name."""
    if member.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = Path(member.filename).name
    try:
        with bundle.open(member) as source, open(path, "wb") as target:
            remaining = member.file_size
            while remaining > 0 and (chunk := source.read(min(CHUNK, remaining))):
                target.write(chunk)
                remaining -= len(chunk)
            honest = remaining == 0 and not source.read(1)
    except OSError:
        raise  # the disk, not the archive: said by unpack
    except Exception:  # noqa: BLE001 - zlib.error, LZMAError, EOFError, a bad CRC...: by kind, one sentence
        raise DataError(f"{shown} in the archive is damaged (its compressed data cannot be read); nothing was "
                        "kept. Zip the images again.") from None
    if not honest:
        raise DataError(f"{shown} in the archive is not the size it declares; nothing was kept. Zip the images "
                        "again.")


def find_class_root(folder: Path) -> Path:
    """The folder inside an unpacked archive that holds the class subfolders (e.g. PetImages/)."""
    folder = Path(folder)
    candidates = [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())] if folder.is_dir() else []
    for candidate in candidates:
        subfolders = [p for p in candidate.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        filled = [s for s in subfolders if any(f.is_file() for f in s.iterdir())]  # a stray empty folder is no class
        if len(filled) >= 2 and len(filled) == len([s for s in subfolders if any(s.iterdir())]):
            for empty in set(subfolders) - set(filled):
                shutil.rmtree(empty, ignore_errors=True)
            return candidate
    raise DataError("The archive does not hold a folder with one subfolder of images per class "
                    "(for example cats/ and dogs/, each full of photos).")


def fetch(which: str, progress: Progress | None = None, url: str | None = None, min_bytes: int | None = None,
          scan_progress: Progress | None = None) -> dict:
    """Download and unpack a built-in photo dataset into the data folder, then clean it; returns the report."""
    spec = catalog.FETCH_NAMES.get(which)
    if spec is None:
        raise DataError(f"There is nothing called {which!r} to fetch: use petimages or cats_and_dogs_filtered.")
    source = catalog.SOURCES[spec]
    data = config.data_dir()
    try:
        archive = download(url or source.url, data / f"{spec}.zip", progress,
                           min_bytes=source.min_bytes if min_bytes is None else min_bytes)
    except DataError as exc:
        raise DataError(f"{exc} To put it in place by hand, {source.by_hand}.") from None
    staging = Path(tempfile.mkdtemp(dir=data, prefix=f".unpack-{spec}-"))
    try:
        unpack(archive, staging)
        root = _dataset_root(spec, staging)
        target = catalog.folder_of(spec)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        archive.unlink(missing_ok=True)
    return folders.scan_folder(catalog.photo_roots(spec)[0], progress=scan_progress).report()


def _dataset_root(spec: str, staging: Path) -> Path:
    if spec == catalog.FILTERED:
        found = next((p for p in staging.rglob("train") if p.is_dir() and (p.parent / "validation").is_dir()), None)
        if found is None:
            raise DataError("The download does not hold train/ and validation/ folders.")
        return found.parent
    return find_class_root(staging)


def import_zip(data: bytes, name: str, limits: ArchiveLimits | None = None, replace: bool = False,
               data_root: Path | None = None) -> str:
    """Unpack an uploaded zip of class folders into custom/<name> of the data folder; returns its spec.

    A taken name is refused unless `replace` is asked for. Everything happens in a hidden staging folder, so
    a refused archive leaves nothing in the dataset list, and the dataset it would replace stays."""
    names.check(name, "dataset")
    root = (data_root or config.data_dir()) / catalog.CUSTOM
    target = root / name
    if target.exists() and not replace:
        raise DataError(f"A dataset called {name!r} already exists. Choose another name, or ask to replace it "
                        "(--replace on the command line, \"Replace the dataset of that name\" on the Explore page).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            _check_room(sum(member.file_size for member in bundle.infolist()), root)
    except zipfile.BadZipFile:
        raise DataError("The upload is not a zip archive.") from None
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".upload-"))
    try:
        archive = staging / "upload.zip"
        archive.write_bytes(data)
        unpack(archive, staging / "files", limits=limits)
        found = find_class_root(staging / "files")
        folders.check_has_images(found)
        if target.exists():
            os.replace(target, staging / "replaced")  # kept until the new one is known to load
        os.replace(found, target)
        try:
            specs.load(str(target))  # every image decoded once, every class big enough: or nothing is kept
        except StudioError:
            shutil.rmtree(target, ignore_errors=True)
            if (staging / "replaced").exists():
                os.replace(staging / "replaced", target)
            raise
        return f"{catalog.CUSTOM}/{name}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
