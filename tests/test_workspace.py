"""Workspaces: what each one reaches, and what no name or path trick reaches."""
import pytest

from core import workspace
from core.data import builder, catalog
from core.errors import BadNameError, DataError, ModelError
from core.model import registry

ALICE, BOB = workspace.named("alice"), workspace.named("bob")


def test_the_default_workspace_is_the_single_user_layout(studio):
    assert workspace.named("") == workspace.DEFAULT
    assert (workspace.DEFAULT.models, workspace.DEFAULT.runs, workspace.DEFAULT.data) == \
        (studio / "models", studio / "runs", studio / "data")
    assert ALICE.models == studio / "workspaces" / "alice" / "models"


def test_browser_workspaces_are_unguessable_and_users_follow_their_identity():
    names = {workspace.new().name for _ in range(100)}
    assert len(names) == 100 and all(len(n) == 32 for n in names)
    assert workspace.of_user("https://id.example", "42") == workspace.of_user("https://id.example", "42")
    assert workspace.of_user("https://id.example", "42") != workspace.of_user("https://other.example", "42")
    assert "42" not in workspace.of_user("https://id.example", "42").name


@pytest.mark.parametrize("trick", ["..", "../bob", "a/b", "/tmp", "-x", ".hidden", "a" * 65])
def test_a_workspace_name_is_a_name_never_a_path(trick):
    with pytest.raises(BadNameError):
        workspace.named(trick)


def test_a_named_workspace_reaches_its_own_datasets_and_the_built_in_ones_only(studio):
    spec = builder.create_dataset("pets", data_root=ALICE.data)
    assert spec == "custom/pets" and catalog.custom_specs(ALICE.data) == ["custom/pets"]
    assert catalog.custom_specs(BOB.data) == [] and catalog.custom_specs() == []
    assert ALICE.locate(spec) == str(ALICE.data / "custom" / "pets")
    assert BOB.locate(spec) == str(BOB.data / "custom" / "pets")  # Bob's own custom/pets, which he lacks
    assert ALICE.locate("mnist") == "mnist"
    for trick in ("custom/../../bob/data/custom/pets", str(ALICE.data / "custom" / "pets"), "/etc",
                  "custom/pets/../../x", "custom", "train.csv"):
        with pytest.raises(DataError, match="no dataset called"):
            BOB.locate(trick)
    assert ALICE.portable(ALICE.locate(spec)) == spec


def test_a_workspace_lists_the_shipped_models_but_cannot_delete_replace_or_shadow_them(studio_with_model):
    names = {info.name for info in registry.list_models(ALICE.models)}
    assert names == {"mnist"}  # the shipped model; not the single-user registry's "tiny"
    assert registry.resolve("mnist", ALICE.models).path == studio_with_model / "models" / "mnist"
    with pytest.raises(ModelError, match="cannot be deleted"):
        registry.delete("mnist", ALICE.models)
    with pytest.raises(ModelError, match="never replaced"):
        registry.check_can_save("mnist", ALICE.models)  # a model of that name would hide the shipped one
    for trick in ("tiny", str(studio_with_model / "models" / "tiny"), "../../models/tiny",
                  str(studio_with_model / "models" / "tiny" / "model.keras")):
        with pytest.raises(ModelError, match="in your workspace"):
            registry.resolve(trick, ALICE.models)
    with pytest.raises(ModelError):
        registry.delete("tiny", ALICE.models)
    assert registry.resolve("tiny").available  # the single-user registry still has it
