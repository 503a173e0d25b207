"""Photo class folders (PetImages and any other): cleaning report, cached index, split, tf.data pipeline."""
import io
import tempfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from core.data import acquire, catalog, folders, pipeline, specs
from core.errors import DataError, StudioError
from tests.support import build_photo_folder


def zip_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("members, limits, sentence", [
    ({"a/bomb.jpg": b"\0" * (50 * 2 ** 20), "b/x.jpg": b"x"}, {}, "zip bomb"),
    ({f"a/{i}.jpg": b"\0" * 2 ** 20 for i in range(6)} | {"b/x.jpg": b"x"}, {"total_bytes": 5 * 2 ** 20,
                                                                            "ratio": 10 ** 6}, "more than"),
    ({f"a/{i}.jpg": b"x" for i in range(30)} | {"b/x.jpg": b"x"}, {"members": 20}, "entries"),
    ({"a/" + "n" * 300 + ".jpg": b"x", "b/x.jpg": b"x"}, {}, "longer than"),
    ({"a/x.jpg": b"x", "a/x.jpg/inner.jpg": b"y", "b/y.jpg": b"y"}, {}, "both as a file and as a folder"),
    ({"a/notes.jpg": b"not an image", "b/more.jpg": b"nor this"}, {}, "holds no image"),
    # Issue 27, finding 3: members under 1 MB escaped the ratio check; 1,075 of them unpacked to 1 GB.
    ({f"a/{i}.jpg": b"\0" * 999_999 for i in range(60)} | {"b/x.jpg": b"x"}, {}, "expands .* times in all"),
])
def test_an_archive_over_a_limit_is_refused_and_leaves_nothing_behind(studio, members, limits, sentence):
    with pytest.raises(DataError, match=sentence):
        acquire.import_zip(zip_bytes(members), "refused", limits=acquire.ArchiveLimits(**limits))
    custom = studio / "data" / "custom"
    assert not custom.exists() or not any(custom.iterdir())


def test_a_symlink_member_is_skipped(studio):
    source = build_photo_folder(studio / "src", ["disc", "square"], per_class=3, broken=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in source.rglob("*.jpg"):
            bundle.write(path, str(path.relative_to(source)))
        link = zipfile.ZipInfo("disc/link.jpg")
        link.external_attr = 0o120777 << 16  # a symlink pointing outside the archive
        bundle.writestr(link, "/etc/passwd")
    spec = acquire.import_zip(buffer.getvalue(), "linked")
    assert not (studio / "data" / spec / "disc" / "link.jpg").exists()
    assert (studio / "data" / spec / "disc" / "0.jpg").exists()


@pytest.fixture
def pets(studio, monkeypatch):
    root = build_photo_folder(studio / "PetImages", ["Cat", "Dog"])
    monkeypatch.setenv("PETIMAGES_DIR", str(root))
    return root


def test_cleaning_skips_and_counts_every_kind_of_bad_file(pets):
    report = folders.scan_folder(pets).report()
    assert report["kept"] == 28 + 2  # 14 per class, plus the BMP named .jpg and the CMYK JPEG
    assert report["skipped_by_reason"] == {"empty file": 1, "system file": 1, "not an image": 1, "undecodable": 1}
    skipped = {item["file"] for item in report["skipped_files"]}
    assert {"Cat/666.jpg", "Cat/Thumbs.db", "Dog/11702.jpg", "Dog/truncated.jpg"} == skipped


def test_odd_formats_are_kept_and_read_by_the_pipeline_from_the_file_itself(pets):
    index = folders.scan_folder(pets)
    by_source = {e.source: e for e in index.entries}
    assert by_source["Dog/bmp_named.jpg"].format == "BMP"
    assert by_source["Cat/cmyk.jpg"].path == str(pets / "Cat" / "cmyk.jpg")  # no converted copy to keep in step
    image = pipeline.decode_photo(by_source["Cat/cmyk.jpg"].path, (32, 32))
    assert tuple(image.shape) == (32, 32, 3)


def test_the_clean_index_is_reused_while_the_folder_is_unchanged(pets, monkeypatch):
    folders.scan_folder(pets)
    with monkeypatch.context() as patch:
        patch.setattr(folders, "_check_file", lambda path: pytest.fail("rescanned an unchanged folder"))
        assert folders.scan_folder(pets).report()["kept"] == 30
    (pets / "Cat" / "new.jpg").write_bytes((pets / "Cat" / "0.jpg").read_bytes())
    assert folders.scan_folder(pets).report()["kept"] == 31


def test_split_is_stratified_and_fixed_by_the_seed(pets):
    index = folders.scan_folder(pets)
    first = folders.split_index(index)
    second = folders.split_index(index)
    assert [e.source for e in first[2]] == [e.source for e in second[2]]
    sizes = [len(part) for part in first]
    assert sum(sizes) == 30 and min(sizes) >= 2
    for part in first:
        assert {e.label for e in part} == {0, 1}


def test_pipeline_gives_resized_float_batches(pets):
    data = specs.load("catsdogs")
    batches = list(pipeline.pipeline(data, data.train, (40, 40), 8, training=True, augment=pipeline.photo_augmenter()))
    x, y = batches[0]
    assert x.shape[1:] == (40, 40, 3) and x.dtype.name == "float32"
    assert 0 <= float(np.min(x)) and float(np.max(x)) <= 255
    assert sum(int(b[1].shape[0]) for b in batches) == len(data.train)


def test_missing_petimages_says_where_to_put_it(studio):
    with pytest.raises(DataError, match="PETIMAGES_DIR"):
        specs.load("catsdogs")


def test_a_folder_with_one_class_is_refused(studio):
    (studio / "one" / "only").mkdir(parents=True)
    with pytest.raises(DataError, match="at least two"):
        specs.load(str(studio / "one"))


def test_zip_of_classes_imports_as_a_dataset(studio):
    source = build_photo_folder(studio / "src" / "shapes", ["disc", "square", "bar"], per_class=6, broken=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in source.rglob("*.jpg"):
            bundle.write(path, f"shapes/{path.relative_to(source)}")
    spec = acquire.import_zip(buffer.getvalue(), "my-shapes")
    assert spec in catalog.known_specs()
    assert specs.load(spec).class_names == ["bar", "disc", "square"]


def test_a_zip_that_escapes_its_folder_is_refused(studio):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("../../evil/a.jpg", b"x")
        bundle.writestr("../../evil2/b.jpg", b"x")
    with pytest.raises(DataError, match="unsafe path"):
        acquire.import_zip(buffer.getvalue(), "evil")


@pytest.fixture
def local_server(tmp_path):
    """A small PetImages zip served on 127.0.0.1 (like Microsoft's, but tiny)."""
    served = tmp_path / "served"
    served.mkdir()
    pets = build_photo_folder(tmp_path / "pack" / "PetImages", ["Cat", "Dog"], per_class=5)
    with zipfile.ZipFile(served / "kagglecatsanddogs.zip", "w") as bundle:
        for path in pets.rglob("*"):
            if path.is_file():
                bundle.write(path, str(path.relative_to(tmp_path / "pack")))
        bundle.writestr("readme[1].txt", "Microsoft's zip has a readme beside the folder")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_reports_progress_unpacks_and_cleans(studio, local_server):
    calls = []
    report = acquire.fetch("petimages", lambda done, total: calls.append((done, total)),
                                      url=f"{local_server}/kagglecatsanddogs.zip", min_bytes=1000)
    assert calls and calls[-1][0] == calls[-1][1]
    assert (studio / "data" / "PetImages" / "Cat").is_dir()
    assert report["kept"] == 10 + 2 and report["skipped"] == 4
    assert not (studio / "data" / "kagglecatsanddogs.zip").exists()


def test_fetch_checks_the_size(studio, local_server):
    with pytest.raises(DataError, match="incomplete"):
        acquire.fetch("petimages", url=f"{local_server}/kagglecatsanddogs.zip", min_bytes=10**9)
    assert not (studio / "data" / "PetImages").exists()


def test_unreachable_server_is_one_sentence_saying_where_to_put_the_folder(studio, local_server):
    with pytest.raises(DataError, match="download .* failed.*PETIMAGES_DIR"):
        acquire.fetch("petimages", url=f"{local_server}/missing.zip")


def test_every_class_gets_a_validation_and_a_test_image_even_when_small(tmp_path):
    from tests.support import build_photo_folder

    root = build_photo_folder(tmp_path / "lopsided", ["big", "small"], per_class=40, broken=False)
    for extra in sorted((root / "small").iterdir())[3:]:
        extra.unlink()  # 40 against 3
    train, val, test = folders.split_index(folders.scan_folder(root))
    for part in (train, val, test):
        assert {e.label for e in part} == {0, 1}
    assert len(train) + len(val) + len(test) == 43


@pytest.mark.parametrize("kept", [0, 1, 2])
def test_a_class_with_fewer_than_three_images_is_refused_by_name(tmp_path, kept):
    from tests.support import build_photo_folder

    root = build_photo_folder(tmp_path / f"tiny{kept}", ["plenty", "scarce"], per_class=10, broken=False)
    for extra in sorted((root / "scarce").iterdir())[kept:]:
        extra.unlink()
    with pytest.raises(DataError, match=f"'scarce' has {kept} usable image.*at least 3"):
        folders.split_index(folders.scan_folder(root))


def photo_zip(extra: dict | None = None, top: str = "pets") -> bytes:
    """A zip of two real class folders (generated photos), plus `extra` members."""
    source = build_photo_folder(Path(tempfile.mkdtemp()) / "src", ["cat", "dog"], per_class=4, broken=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(source.rglob("*.jpg")):
            bundle.write(path, f"{top}/{path.relative_to(source)}")
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def test_a_taken_dataset_name_is_refused_unless_replacing(studio):
    """Issue 27, finding 5: `data import` under a taken name deleted the old dataset and exited 0."""
    spec = acquire.import_zip(photo_zip(), "pets")
    kept = sorted(p.name for p in (studio / "data" / spec).rglob("*.jpg"))
    with pytest.raises(DataError, match="already exists"):
        acquire.import_zip(photo_zip(), "pets")
    assert sorted(p.name for p in (studio / "data" / spec).rglob("*.jpg")) == kept
    assert acquire.import_zip(photo_zip(), "pets", replace=True) == spec
    for trick in ("../../pets", "a/b", ".pets", "my pets"):
        with pytest.raises(StudioError, match="not a usable dataset name"):
            acquire.import_zip(photo_zip(), trick)


def test_finders_extras_and_a_stray_empty_folder_are_ignored(studio):
    extras = {"__MACOSX/pets/cat/._0.jpg": b"\0\5\26\7", ".DS_Store": b"\0\0\0\1Bud1", "pets/notes/": b""}
    spec = acquire.import_zip(photo_zip(extras), "finder")
    assert specs.load(spec).class_names == ["cat", "dog"]


@pytest.mark.parametrize("damage, sentence", [("corrupt", "damaged"), ("lying", "damaged|not the size it declares")])
def test_a_member_that_is_damaged_or_lies_about_its_size_is_one_sentence(studio, damage, sentence):
    data = bytearray(photo_zip())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as bundle:
        member = bundle.infolist()[0]
    if damage == "corrupt":  # scramble the compressed bytes of the first member
        start = member.header_offset + 30 + len(member.filename)
        data[start:start + 40] = bytes(range(40))
    else:  # its central directory says it is larger than it is (this raised EOFError)
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as bundle:
            infos = bundle.infolist()
            blobs = [bundle.read(info) for info in infos]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
            for info, blob in zip(infos, blobs):
                bundle.writestr(info.filename, blob)
        data = bytearray(buffer.getvalue())
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as bundle:
            first = bundle.infolist()[0]
        central = data.find(b"PK\x01\x02")  # the first member's central directory entry
        size = first.file_size + 100
        data[central + 24:central + 28] = size.to_bytes(4, "little")  # declared uncompressed size
        data[central + 20:central + 24] = size.to_bytes(4, "little")  # and compressed: read past into the next
    with pytest.raises(DataError, match=sentence):
        acquire.import_zip(bytes(data), "damaged")
    assert not (studio / "data" / "custom" / "damaged").exists()


def test_imports_together_stay_under_their_configured_total(studio, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CUSTOM_BYTES", str(60_000))
    acquire.import_zip(photo_zip(), "first")  # the generated photos are a few kB each
    with pytest.raises(DataError, match="STUDIO_MAX_CUSTOM_BYTES"):
        for number in range(20):
            acquire.import_zip(photo_zip(), f"more-{number}")


def test_a_limit_that_is_not_a_number_is_one_sentence(studio, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_UNPACK_BYTES", "abc")
    with pytest.raises(StudioError, match="STUDIO_MAX_UNPACK_BYTES must be a whole number"):
        acquire.import_zip(photo_zip(), "limited")


def test_converted_copies_of_files_with_similar_paths_never_clash(studio):
    from PIL import Image

    for relative, colour in (("a/b__c.webp", (255, 0, 0)), ("a__b/c.webp", (0, 0, 255))):
        path = studio / "set" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for extra in range(3):  # each class needs 3 images
            Image.new("RGB", (24, 24), colour).save(path.with_name(f"{path.stem}{extra}.webp"), "WEBP")
    index = folders.scan_folder(studio / "set")
    readable = {e.source: e.path for e in index.entries}
    assert len(set(readable.values())) == len(readable) == 6
    red = np.asarray(Image.open(readable["a/b__c0.webp"]))[0, 0]
    blue = np.asarray(Image.open(readable["a__b/c0.webp"]))[0, 0]
    assert red[0] > 200 and blue[2] > 200


def test_a_failed_import_leaves_nothing_in_the_list_and_the_old_dataset_stays(studio):
    """Issue 27, finding 5: a zip with a class of 2 images stayed in the dataset list, unusable."""
    source = build_photo_folder(studio / "src" / "pets", ["cat", "dog"], per_class=4, broken=False)
    for extra in sorted((source / "dog").iterdir())[2:]:
        extra.unlink()  # dog keeps 2 images: fewer than a class needs
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(source.rglob("*.jpg")):
            bundle.write(path, f"pets/{path.relative_to(source)}")
    with pytest.raises(DataError, match="dog"):
        acquire.import_zip(buffer.getvalue(), "small")
    assert "custom/small" not in catalog.known_specs()
    spec = acquire.import_zip(photo_zip(), "kept")
    with pytest.raises(DataError, match="dog"):
        acquire.import_zip(buffer.getvalue(), "kept", replace=True)
    assert specs.load(spec).class_names == ["cat", "dog"] and len(specs.load(spec).train) > 0
