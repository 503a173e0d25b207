from core.wording import counted


def test_a_count_is_worded_with_its_noun_plural_unless_one():
    assert counted(1, "epoch") == "1 epoch"
    assert counted(0, "image") == "0 images"
    assert counted(2, "test image") == "2 test images"
    assert counted(1204, "photo") == "1,204 photos"
    assert counted(2, "class", "classes") == "2 classes" and counted(1, "class", "classes") == "1 class"
