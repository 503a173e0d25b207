"""The numbers and pictures behind the EDA page, computed without any UI."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from core import config
from core.data import catalog, folders
from core.images import flatten_alpha, read_image_file, thumbnail_rgb


def grey_summary(dataset) -> dict:
    x = dataset.train.x
    return {
        "train": len(dataset.train) + len(dataset.val),
        "test": len(dataset.test),
        "image_size": f"{x.shape[1]}×{x.shape[2]}",
        "dtype": str(x.dtype),
        "value_range": f"{int(x.min())}..{int(x.max())}",
        "classes": len(dataset.class_names),
    }


def label_counts(dataset):
    """A tidy frame of class counts per split: train, validation and test."""
    rows = []
    for split_name, split in (("train", dataset.train), ("validation", dataset.val), ("test", dataset.test)):
        counts = np.bincount(split.y, minlength=len(dataset.class_names))
        rows += [{"class": name, "split": split_name, "count": int(c)} for name, c in zip(dataset.class_names, counts)]
    return pd.DataFrame(rows)


IMBALANCED = 2.0  # past this ratio of largest to smallest class, training weighs classes by default


def imbalance_ratio(counts: np.ndarray) -> float:
    """How many times the largest class outnumbers the smallest (inf with an empty class)."""
    return float(counts.max() / counts.min()) if counts.min() else float("inf")


def wants_class_weights(labels: np.ndarray, num_classes: int) -> bool:
    """Training's default: weigh classes when, in the training labels, the largest class has more than
    IMBALANCED times the images of the smallest (and none is empty)."""
    counts = np.bincount(labels, minlength=num_classes)
    return bool(counts.min() > 0 and imbalance_ratio(counts) > IMBALANCED)


def imbalance(dataset) -> float:
    """`imbalance_ratio` over all splits of a dataset."""
    labels = np.concatenate([dataset.train.y, dataset.val.y, dataset.test.y])
    return imbalance_ratio(np.bincount(labels, minlength=len(dataset.class_names)))


def samples_per_class(x: np.ndarray, y: np.ndarray, per_class: int, seed: int) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    picks = {}
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        picks[int(label)] = x[rng.choice(where, size=min(per_class, len(where)), replace=False)]
    return picks


def class_mean_variance(x: np.ndarray, y: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance image of each class: `(C, H, W)` each."""
    means = np.stack([x[y == c].mean(axis=0) for c in range(num_classes)])
    variances = np.stack([x[y == c].astype(np.float64).var(axis=0) for c in range(num_classes)])
    return means, variances


def intensity_histogram(x: np.ndarray, y: np.ndarray, class_names: list[str], bins: int = 32):
    """Pixel-intensity histograms per class and overall, as a tidy frame (share of pixels per bin)."""
    edges = np.linspace(0, 256, bins + 1)
    rows = []
    groups = [("all", x)] + [(name, x[y == c]) for c, name in enumerate(class_names)]
    for name, images in groups:
        counts, _ = np.histogram(images, bins=edges)
        share = counts / max(counts.sum(), 1)
        rows += [{"class": name, "intensity": int(edges[i]), "share": float(s)} for i, s in enumerate(share)]
    return pd.DataFrame(rows)


def embedding(x: np.ndarray, y: np.ndarray, method: str = "pca", samples: int = 2000, seed: int = config.SEED):
    """A 2-D map of a sample of images (PCA, or t-SNE on 50 PCA components), as a frame with x, y, label."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), size=min(samples, len(x)), replace=False)
    flat = x[pick].reshape(len(pick), -1).astype(np.float32) / 255.0
    if method == "tsne":
        reduced = PCA(n_components=min(50, flat.shape[1], len(flat)), random_state=seed).fit_transform(flat)
        points = TSNE(n_components=2, init="pca", perplexity=min(30, max(5, len(flat) // 4)),
                      random_state=seed).fit_transform(reduced)
    else:
        points = PCA(n_components=2, random_state=seed).fit_transform(flat)
    return pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "label": y[pick].astype(str), "index": pick})


# --- photos --------------------------------------------------------------------------


def photo_sizes(dataset):
    """Width, height and aspect ratio of every kept photo, from the cleaning index (no decoding)."""
    entries = [e for root in catalog.photo_roots(dataset.spec) for e in folders.scan_folder(root).entries]
    return pd.DataFrame({
        "class": [dataset.class_names[e.label] for e in entries],  # the dataset's names (cat), not folders' (cats)
        "width": [e.width for e in entries],
        "height": [e.height for e in entries],
        "aspect": [round(e.width / max(e.height, 1), 2) for e in entries],
        "file": [e.source for e in entries],
    })


def photo_sample(dataset, per_class: int, seed: int, side: int = 128) -> dict[str, list]:
    """A few thumbnails per class: {class name: [(RGB array, file name), ...]}."""
    rng = np.random.default_rng(seed)
    paths = np.array(dataset.train.paths)
    picks = {}
    for label, name in enumerate(dataset.class_names):
        where = np.flatnonzero(dataset.train.y == label)
        chosen = rng.choice(where, size=min(per_class, len(where)), replace=False) if len(where) else []
        picks[name] = [(thumbnail_rgb(read_image_file(paths[i]), side), paths[i].rsplit("/", 1)[-1]) for i in chosen]
    return picks


def channel_histograms(dataset, per_class: int = 60, seed: int = config.SEED, bins: int = 32):
    """Red, green and blue intensity histograms per class over a sample of photos, as a tidy frame."""
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, 256, bins + 1)
    rows = []
    for label, name in enumerate(dataset.class_names):
        where = np.flatnonzero(dataset.train.y == label)
        chosen = rng.choice(where, size=min(per_class, len(where)), replace=False) if len(where) else []
        totals = np.zeros((3, bins))
        for i in chosen:
            image = flatten_alpha(read_image_file(dataset.train.paths[i]))
            image.thumbnail((256, 256))
            pixels = np.asarray(image).reshape(-1, 3)
            for channel in range(3):
                totals[channel] += np.histogram(pixels[:, channel], bins=edges)[0]
        for channel, colour in enumerate(("red", "green", "blue")):
            share = totals[channel] / max(totals[channel].sum(), 1)
            rows += [{"class": name, "channel": colour, "intensity": int(edges[b]), "share": float(share[b])}
                     for b in range(bins)]
    return pd.DataFrame(rows)
