"""The one name rule: what the Train page, the command line, the registry and the datasets all accept."""
import pytest

from core import names
from core.errors import StudioError


def test_typed_words_become_one_name_everywhere():
    assert names.name_from("my first model") == "my-first-model"
    assert names.name_from("  tuned   v2 ") == "tuned-v2"
    assert names.name_from("mnist-bn_2.1") == "mnist-bn_2.1"


@pytest.mark.parametrize("typed", ["", "   ", "../escape", "a/b", ".hidden", "-dash", "x" * 65, "naïve", "a\\b"])
def test_anything_else_is_refused_with_the_rule(typed):
    with pytest.raises(StudioError, match="letters, digits"):
        names.name_from(typed)


def test_slugs_and_stamped_names_fit_the_same_rule():
    assert names.slug("Flowers (1)") == "Flowers-1"
    assert names.slug("../../pets") == "pets"
    assert names.slug("!!!", fallback="dataset") == "dataset"
    stamped = names.stamped("x" * 200)
    assert len(stamped) <= names.MAX_LENGTH - 3 and names.check(stamped)
    assert names.check(names.slug("y" * 200)) and len(names.slug("y" * 200)) == names.MAX_LENGTH
