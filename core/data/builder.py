"""Datasets built by hand in the browser: `custom/<dataset>/<class>/<image>` in a workspace's data folder
(`data_root`; the default one is `data/`).

The same class-folder layout a zip import makes, so the command line and every page see a built
dataset like any other folder. Each image is checked by decoding it before it is kept, under a
name of our own; nothing a person types becomes a path without passing `slug`.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from core import config
from core.data.catalog import CUSTOM
from core.errors import DataError, StudioError
from core.images import decode_image
from core.names import slug


def dataset_dir(name: str, data_root: Path | None = None) -> Path:
    return (data_root or config.data_dir()) / CUSTOM / slug(name)


def create_dataset(name: str, data_root: Path | None = None) -> str:
    """A new, empty dataset; returns its spec (`custom/<slug>`). Refused when the name is taken."""
    folder = dataset_dir(name, data_root)
    if folder.exists():
        raise DataError(f"There is already a dataset called {folder.name!r}; choose another name or add to it.")
    folder.mkdir(parents=True)
    return f"{CUSTOM}/{folder.name}"


def classes(spec_or_name: str, data_root: Path | None = None) -> dict[str, list[Path]]:
    """Each class of a built dataset with its images in the order they were added (their names start with a
    running number)."""
    folder = dataset_dir(Path(spec_or_name).name, data_root)
    if not folder.is_dir():
        return {}
    return {child.name: sorted(p for p in child.iterdir() if p.is_file() and not p.name.startswith("."))
            for child in sorted(folder.iterdir()) if child.is_dir() and not child.name.startswith(".")}


def add_class(spec_or_name: str, class_name: str, data_root: Path | None = None) -> str:
    folder = dataset_dir(Path(spec_or_name).name, data_root)
    name = slug(class_name, fallback="")
    if not name:
        raise DataError("A class needs a name with at least one letter or digit.")
    same = next((c for c in classes(spec_or_name, data_root) if c.lower() == name.lower()), None)
    if same is not None:  # "a" and "A" would be two folders, and one class to the person who typed them
        raise DataError(f"The class {same!r} is already there.")
    (folder / name).mkdir(parents=True)
    return name


def class_dir(spec_or_name: str, class_name: str, data_root: Path | None = None) -> Path:
    """The folder of a class exactly as `classes` lists it: never a name made from it, never a path."""
    if class_name not in classes(spec_or_name, data_root):
        raise DataError(f"There is no class {class_name!r} in this dataset.")
    return dataset_dir(Path(spec_or_name).name, data_root) / class_name


def add_images(spec_or_name: str, class_name: str, files: list[tuple[str, bytes]],
               data_root: Path | None = None) -> tuple[int, list[str]]:
    """Keep each file that decodes as an image; returns (how many were added, a sentence per file not added).

    Each is saved as `<running number>-<its own name>-<content digest>`, so the class lists in upload order
    under names the person knows. A file whose content is already in the class is not added twice (a second
    press of a camera), and the sentence says so."""
    folder = class_dir(spec_or_name, class_name, data_root)
    known = {image_digest(p): p for p in classes(spec_or_name, data_root)[class_name]}
    number = 1 + max((int(p.name.split("-", 1)[0]) for p in known.values() if p.name.split("-", 1)[0].isdigit()),
                     default=0)
    added, problems = 0, []
    for file_name, data in files:
        try:
            image = decode_image(data)
        except StudioError as exc:
            problems.append(f"{file_name}: {exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()[:12]
        if digest in known:
            problems.append(f"{file_name} is already in {class_name} (as {original_name(known[digest])}), so it "
                            "was not added again.")
            continue
        stem = slug(Path(file_name).stem, fallback="photo", length=40)
        target = folder / f"{number:04d}-{stem}-{digest}{'.png' if image.mode == 'RGBA' else '.jpg'}"
        image.save(target, quality=95)  # as decoded: upright, and small enough for any model here
        known[digest] = target
        number += 1
        added += 1
    return added, problems


def image_digest(path: Path) -> str:
    """The content digest in a built image's name (older ones were named by the digest alone)."""
    return path.stem.rsplit("-", 1)[-1]


def original_name(path: Path) -> str:
    """The name a built image had when it was added: `0007-my-cat-3f…` → `my-cat`."""
    parts = path.stem.split("-")
    return "-".join(parts[1:-1]) if len(parts) > 2 and parts[0].isdigit() else path.name


def remove_image(path: Path, data_root: Path | None = None) -> None:
    path = Path(path).resolve()
    if ((data_root or config.data_dir()) / CUSTOM).resolve() not in path.parents:
        raise DataError("Only images of a dataset built here can be removed.")
    path.unlink(missing_ok=True)


def remove_class(spec_or_name: str, class_name: str, data_root: Path | None = None) -> None:
    """Remove exactly the class shown ("my dogs" once removed the class my-dogs)."""
    shutil.rmtree(class_dir(spec_or_name, class_name, data_root))


def remove_dataset(spec_or_name: str, data_root: Path | None = None) -> None:
    """Remove a whole built dataset: its classes and their images."""
    folder = dataset_dir(Path(spec_or_name).name, data_root)
    if not folder.is_dir():
        raise DataError(f"There is no dataset called {folder.name!r} in your workspace.")
    shutil.rmtree(folder)
