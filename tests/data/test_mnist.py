"""MNIST and Fashion-MNIST from IDX/npz files with their lookup chains, and Kaggle Digit Recognizer CSVs."""
import gzip
import io

import numpy as np
import pytest

from core import config
from core.data import catalog, kaggle, mnist, specs
from core.errors import DataError
from tests.support import kaggle_csv, write_idx


def test_loads_gzipped_idx(tiny_mnist_dir):
    data = mnist.load_idx_folder(tiny_mnist_dir)
    assert data.x_train.shape[1:] == (28, 28) and data.x_train.dtype == np.uint8
    assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
    assert data.fingerprint.startswith("sha256:")


def test_loads_raw_idx_and_gives_the_same_fingerprint(tiny_mnist_dir, tmp_path):
    for path in tiny_mnist_dir.iterdir():
        (tmp_path / path.name[:-3]).write_bytes(gzip.decompress(path.read_bytes()))
    raw = mnist.load_idx_folder(tmp_path)
    gz = mnist.load_idx_folder(tiny_mnist_dir)
    assert np.array_equal(raw.x_train, gz.x_train)
    assert raw.fingerprint == gz.fingerprint


def test_loads_keras_npz(tiny_mnist_dir, tmp_path):
    data = mnist.load_idx_folder(tiny_mnist_dir)
    np.savez(tmp_path / "mnist.npz", x_train=data.x_train, y_train=data.y_train, x_test=data.x_test,
             y_test=data.y_test)
    loaded = mnist.load_npz(tmp_path / "mnist.npz")
    assert np.array_equal(loaded.y_test, data.y_test)


def test_wrong_magic_number_is_one_clear_sentence(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((5, 28, 28)))
    raw = gzip.decompress((tmp_path / "train-images-idx3-ubyte.gz").read_bytes())
    with pytest.raises(DataError, match="wrong magic number.*MNIST_DIR"):
        mnist.parse_idx(b"\x00\x00\x08\x01" + raw[4:], "x.idx", 3)


def test_cut_short_file_is_refused(tmp_path):
    write_idx(tmp_path / "t.gz", np.zeros((5, 28, 28)))
    raw = gzip.decompress((tmp_path / "t.gz").read_bytes())
    with pytest.raises(DataError, match="cut short"):
        mnist.parse_idx(raw[:-100], "t", 3)
    with pytest.raises(DataError, match="too short"):
        mnist.parse_idx(raw[:6], "t", 3)


def test_damaged_gzip_is_refused(tmp_path, tiny_mnist_dir):
    for path in tiny_mnist_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="damaged gzip|cut short"):
        mnist.load_idx_folder(tmp_path)


def test_lookup_chain_prefers_mnist_dir_then_project_data(studio, tiny_mnist_dir, monkeypatch):
    assert mnist.load(allow_download=False).source == str(tiny_mnist_dir)
    monkeypatch.delenv("MNIST_DIR")
    project = studio / "data" / "mnist"
    project.mkdir()
    for path in tiny_mnist_dir.iterdir():
        (project / path.name).write_bytes(path.read_bytes())
    assert mnist.load(allow_download=False).source == str(project)


def test_missing_mnist_says_where_to_put_the_files(studio, monkeypatch):
    monkeypatch.delenv("MNIST_DIR")
    with pytest.raises(DataError) as info:
        mnist.load(allow_download=False)
    assert "data/mnist/" in str(info.value) and "MNIST_DIR" in str(info.value)



def test_fashion_mnist_loads_as_clothing_with_zalandos_class_names(studio, tiny_fashion_dir):
    data = specs.load("fashion")
    assert data.kind == "clothing" == catalog.kind_of("fashion") and catalog.is_grey(data.kind)
    assert data.class_names[0] == "t-shirt/top" and data.class_names[9] == "ankle boot"
    assert data.source == str(tiny_fashion_dir) and data.train.x.shape[1:] == (28, 28)
    assert mnist.counts(mnist.FASHION) == (1200, 300, str(tiny_fashion_dir))


def test_fashion_mnist_is_looked_for_in_debians_package_after_its_variable(studio, tiny_fashion_dir, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR")
    monkeypatch.setattr(config, "DEBIAN_FASHION_MNIST", tiny_fashion_dir)
    assert mnist.load(mnist.FASHION, allow_download=False).source == str(tiny_fashion_dir)


def test_missing_fashion_mnist_says_how_to_install_it(studio, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR")
    monkeypatch.setattr(config, "DEBIAN_FASHION_MNIST", studio / "not-installed")
    with pytest.raises(DataError) as info:
        mnist.load(mnist.FASHION, allow_download=False)
    assert "apt-get install dataset-fashion-mnist" in str(info.value) and "FASHION_MNIST_DIR" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_kaggle_train_csv_loads_as_digit_data(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(kaggle_csv(40))
    data = kaggle.load_kaggle(path)
    assert data.x_train.shape[1:] == (28, 28) and len(data.x_train) + len(data.x_test) == 40


def test_kaggle_test_csv_and_submission():
    images, labels = kaggle.read_kaggle_csv(io.StringIO(kaggle_csv(5, labelled=False)), labelled=False)
    assert images.shape == (5, 28, 28) and labels is None
    text = kaggle.kaggle_submission(np.array([3, 1, 4, 1, 5]))
    assert text.splitlines() == ["ImageId,Label", "1,3", "2,1", "3,4", "4,1", "5,5"]


HEADER = "label," + ",".join(f"pixel{i}" for i in range(784)) + "\n"


@pytest.mark.parametrize("content, message", [
    ("a,b,c\n1,2,3\n", "columns"),
    (HEADER + "3," + ",".join(["abc"] + ["0"] * 783) + "\n", "not numbers"),
    (HEADER + "3," + ",".join(["300"] * 784) + "\n", "0..255"),
    ("", "not a readable CSV"),
])
def test_bad_kaggle_csv_is_one_sentence(content, message):
    with pytest.raises(DataError, match=message):
        kaggle.read_kaggle_csv(io.StringIO(content), labelled=True)


def test_counts_come_from_the_headers(studio, tiny_mnist_dir):
    assert mnist.counts() == (1200, 300, str(tiny_mnist_dir))


def test_a_kaggle_submission_is_made_chunk_by_chunk(monkeypatch):
    """Issue 27, finding 6: a 188 MB test.csv took the server from 1.5 to 4.2 GB; it is read in chunks now."""
    monkeypatch.setattr(kaggle, "CHUNK_ROWS", 5)
    seen = []

    class Counting:
        def classes_of(self, inputs):
            seen.append(len(inputs))
            return np.full(len(inputs), 7)

    text, count = kaggle.submission(Counting(), io.StringIO(kaggle_csv(12, labelled=False)))
    assert seen == [5, 5, 2] and count == 12 and text.splitlines()[1:] == [f"{i},7" for i in range(1, 13)]
    broken = kaggle_csv(12, labelled=False).splitlines()
    broken[11] = broken[11].replace("0", "999", 1) if "0" in broken[11] else "999" + broken[11][1:]
    with pytest.raises(DataError, match="outside 0..255"):
        kaggle.submission(Counting(), io.StringIO("\n".join(broken)))
