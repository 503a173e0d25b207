"""People's sketches for the digit gate: read as numpy arrays and nothing else, drawn stroke by stroke."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from core.data import sketches
from core.errors import DataError


def sketch_file(path, drawings) -> None:
    """A sketch-rnn style `.npz`: each split a pickled object array of stroke-3 drawings."""
    splits = {}
    for split in ("train", "test"):
        array = np.empty(len(drawings), dtype=object)
        array[:] = [np.asarray(d, np.int16) for d in drawings]
        splits[split] = array
    np.savez(path, **splits)


TWO_STROKES = [[10, 0, 0], [0, 40, 1], [30, -40, 0], [0, 40, 1]]  # "|" then a second "|" 30 to the right


def test_reads_every_drawing_of_a_split(tmp_path):
    sketch_file(tmp_path / "omniglot.npz", [TWO_STROKES, TWO_STROKES[:2]])
    drawings = sketches.read_strokes(tmp_path / "omniglot.npz", "test")
    assert [d.shape for d in drawings] == [(4, 3), (2, 3)]
    assert sketches.available(tmp_path) == {"omniglot": tmp_path / "omniglot.npz"}
    assert sketches.available(None) == {}


class RunsACommand:
    def __reduce__(self):
        return os.system, ("echo ran > /dev/null",)


def test_a_file_that_would_run_code_is_refused(tmp_path):
    payload = io.BytesIO()
    np.lib.format.write_array_header_1_0(payload, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    payload.write(pickle.dumps([RunsACommand()]))
    with zipfile.ZipFile(tmp_path / "kanji.rdp100.npz", "w") as archive:
        archive.writestr("train.npy", payload.getvalue())
    with pytest.raises(DataError, match="not part of a numpy array"):
        sketches.read_strokes(tmp_path / "kanji.rdp100.npz")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short", b"not a zip at all"])
def test_a_damaged_file_is_refused_with_a_sentence(tmp_path, content):
    (tmp_path / "omniglot.npz").write_bytes(content)
    with pytest.raises(DataError, match="omniglot.npz is not a sketch-rnn stroke file"):
        sketches.read_strokes(tmp_path / "omniglot.npz")


def test_the_pen_lifts_between_strokes():
    mask = sketches.ink_mask(np.asarray(TWO_STROKES, np.float32), np.random.default_rng(0), size=100)
    middle_row = mask[50] > 0.5
    # two vertical bars with empty paper between them: the pen did not draw the jump back to the top
    runs = np.flatnonzero(np.diff(middle_row.astype(int)) != 0)
    assert len(runs) == 4, runs
    assert mask.shape == (100, 100) and 0 <= mask.min() and mask.max() <= 1


def test_the_gate_learns_from_the_sketches_that_are_there(tmp_path, monkeypatch):
    from core.training.gate import sketch_pictures

    monkeypatch.setenv("SKETCHES_DIR", str(tmp_path))
    assert len(sketch_pictures(seed=1)) == 0  # not on this machine: the gate trains without them
    square = [[0, 0, 0], [50, 0, 0], [0, 50, 0], [-50, 0, 0], [0, -50, 1]]
    sketch_file(tmp_path / "aaron_sheep.npz", [TWO_STROKES, square, square])
    pictures = sketch_pictures(seed=1)
    assert pictures.shape == (3, 28, 28) and pictures.max() > 100  # model inputs, ink at 0..255
