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
