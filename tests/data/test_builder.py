"""Datasets built in the browser: a class is reached by the name it is listed under, exactly."""
import pytest

from core.data import builder
from core.errors import DataError


def test_remove_class_removes_exactly_the_class_shown(studio):
    """Issue 27, finding 5: "Remove class" slugged the name first, so "my dogs" deleted my-dogs."""
    spec = builder.create_dataset("pets")
    folder = studio / "data" / spec
    (folder / "my dogs").mkdir()  # as a zip import or a folder by hand can make it
    builder.add_class(spec, "my-dogs")
    builder.remove_class(spec, "my dogs")
    assert list(builder.classes(spec)) == ["my-dogs"]
    with pytest.raises(DataError, match="no class"):
        builder.remove_class(spec, "my dogs")  # already gone: a sentence, and my-dogs stays
    assert list(builder.classes(spec)) == ["my-dogs"]


@pytest.mark.parametrize("trick", ["../pets", "..", "", "my-dogs/../../x"])
def test_images_go_only_into_a_listed_class(studio, trick):
    spec = builder.create_dataset("pets")
    builder.add_class(spec, "my-dogs")
    with pytest.raises(DataError, match="no class"):
        builder.add_images(spec, trick, [("x.png", b"not read")])
    with pytest.raises(DataError, match="no class"):
        builder.remove_class(spec, trick)
    assert list(builder.classes(spec)) == ["my-dogs"] and (studio / "data" / spec).is_dir()


def jpeg(seed: int) -> bytes:
    from tests.support import jpeg_bytes, make_photo

    return jpeg_bytes(make_photo(seed % 2, seed=seed))


def test_images_list_in_upload_order_under_their_own_names_and_a_duplicate_is_said(studio):
    """Issue 24: thumbnails came in digest order, and a second copy of a photo vanished without a word."""
    spec = builder.create_dataset("pets")
    builder.add_class(spec, "cat")
    added, problems = builder.add_images(spec, "cat", [("zebra.jpg", jpeg(1)), ("apple.jpg", jpeg(2))])
    assert added == 2 and not problems
    added, problems = builder.add_images(spec, "cat", [("mango.jpg", jpeg(3)), ("again.jpg", jpeg(1))])
    assert added == 1 and problems == ["again.jpg is already in cat (as zebra), so it was not added again."]
    assert [builder.original_name(p) for p in builder.classes(spec)["cat"]] == ["zebra", "apple", "mango"]


def test_class_names_are_one_class_whatever_their_case(studio):
    spec = builder.create_dataset("letters")
    builder.add_class(spec, "a")
    with pytest.raises(DataError, match="'a' is already there"):
        builder.add_class(spec, "A")
    assert list(builder.classes(spec)) == ["a"]


def test_a_whole_dataset_is_removed_and_an_empty_one_is_never_offered(studio):
    from core.data import catalog

    spec = builder.create_dataset("pets")
    builder.add_class(spec, "cat")
    assert spec in catalog.custom_specs() and spec not in catalog.known_specs()  # no image yet: not offered
    builder.add_images(spec, "cat", [("one.jpg", jpeg(1))])
    assert spec in catalog.known_specs()
    builder.remove_dataset(spec)
    assert spec not in catalog.custom_specs() and not (studio / "data" / spec).exists()
    with pytest.raises(DataError, match="no dataset called 'pets'"):
        builder.remove_dataset(spec)
