"""Read a legacy (non-zip) PyTorch checkpoint into NumPy arrays, without torch and without trusting it.

The legacy format is five pickles in a row (magic number, protocol version, system info, the state
dict, the list of storage keys) followed by each storage's raw bytes. A pickle can name any function
to call, so every pickle here goes through `RestrictedUnpickler`, whose `find_class` allows only what
a state dict needs: `collections.OrderedDict`, torch's tensor-rebuild functions (replaced here by our
own) and the storage types (mapped to NumPy dtypes). Anything else is refused before it is called.
"""
from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ModelError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


@dataclass
class _Storage:
    dtype: type
    count: int
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    """A tensor described by the pickle; its bytes arrive only after the pickle, so it is resolved later."""

    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def array(self) -> np.ndarray:
        if self.storage.data is None:
            raise ModelError("The checkpoint is cut short: a tensor's data is missing.")
        itemsize = self.storage.data.itemsize
        base = self.storage.data[self.offset:]
        needed = 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) if all(self.shape) else 0
        if needed > len(base):
            raise ModelError("The checkpoint is damaged: a tensor reaches past its storage.")
        view = np.lib.stride_tricks.as_strided(base, self.shape, tuple(s * itemsize for s in self.stride))
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _Tensor(storage, int(storage_offset), tuple(size), tuple(stride))


class _StorageType:
    def __init__(self, name: str):
        self.dtype = STORAGE_DTYPES[name]


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build a state dict and nothing else."""

    def __init__(self, file, storages: dict | None = None):
        super().__init__(file)
        self.storages = {} if storages is None else storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ModelError(f"The checkpoint asks to run {module}.{name}, which a weights file never needs; "
                         "it was refused and nothing was loaded.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise ModelError("The checkpoint refers to something other than tensor storage; it was refused.")
        _, storage_type, key, _location, count = pid[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, int(count))
        return self.storages[key]


def _load_one(handle, storages: dict | None = None):
    try:
        return RestrictedUnpickler(handle, storages).load()
    except ModelError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        raise ModelError("The checkpoint is not a readable PyTorch weights file (it is damaged, cut short or "
                         "of another kind).") from None


def read_legacy_checkpoint(data: bytes) -> dict[str, np.ndarray]:
    """The state dict of a legacy torch checkpoint as {name: float/int NumPy array}."""
    handle = io.BytesIO(data)
    if _load_one(handle) != LEGACY_MAGIC:
        raise ModelError("The file is not a legacy PyTorch checkpoint (wrong magic number).")
    _load_one(handle)  # protocol version
    _load_one(handle)  # system info (endianness, type sizes)
    storages: dict = {}
    state = _load_one(handle, storages)
    keys = _load_one(handle)
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise ModelError("The checkpoint does not hold a state dict.")
    for key in keys:
        storage = storages.get(key)
        if storage is None:
            raise ModelError("The checkpoint lists a storage that no tensor uses.")
        header = handle.read(8)
        if len(header) != 8:
            raise ModelError("The checkpoint is cut short.")
        (count,) = struct.unpack("<q", header)
        size = count * np.dtype(storage.dtype).itemsize
        raw = handle.read(size)
        if count != storage.count or len(raw) != size:
            raise ModelError("The checkpoint is cut short or damaged (a storage has the wrong size).")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return {name: value.array() for name, value in state.items() if isinstance(value, _Tensor)}


def read_checkpoint_file(path: Path) -> dict[str, np.ndarray]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"The weights file {Path(path).name} cannot be read ({exc.strerror or 'unreadable'}).") \
            from None
    return read_legacy_checkpoint(data)
