"""photos-transfer: features cached once per image and view, a head fitted on them to convergence, Lite0 kept
frozen; few photos all train, and the accuracy is estimated by cross-validation."""
import numpy as np
import pytest

from core.training.config import TrainConfig
from core.training.train import train
from tests.support import as_uploaded, build_photo_folder, make_photo

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one


@pytest.fixture
def shapes(studio):
    return build_photo_folder(studio / "data" / "custom" / "shapes", ["disc", "square"], per_class=16, broken=False)


def transfer(shapes, **settings):
    return train(TrainConfig(dataset=str(shapes), preset="photos-transfer", epochs=5, **settings).ready())


def test_transfer_learns_a_small_generated_folder_from_every_photo_estimates_by_folds_and_knows_other_things(
        shapes):
    info = transfer(shapes, name="shapes")
    metrics = info.meta["metrics"]
    assert metrics["test_accuracy"] >= 0.75
    assert info.meta["train_samples"] == 32 and metrics["test_samples"] == 32  # every photo trains, every one is
    estimate = metrics["estimate"]                                             # predicted by a fold without it
    assert estimate == {"method": "5-fold cross-validation", "photos": 32}
    assert info.meta["backbone"] == "efficientnet-lite0" and info.meta["preset"] == "photos-transfer"
    assert info.meta["dataset"] == "custom/shapes"  # relative to the data folder: no machine path

    from core.inference.predictor import Predictor

    predictor = Predictor.from_registry("shapes")
    assert predictor.predict(as_uploaded(make_photo(0, seed=4242))).label == "disc"
    assert predictor.predict(as_uploaded(make_photo(1, seed=4243))).label == "square"
    assert predictor.explain(predictor.predict(as_uploaded(make_photo(0, seed=4244)))).shape == (224, 224)
    a_photo_far_from_every_class_is_none_of_your_classes(info)


def a_photo_far_from_every_class_is_none_of_your_classes(info):
    """Issue 25, on the model the test above trained (one training for both)."""
    from PIL import Image
    from skimage import data

    from core.errors import NoneOfYourClassesError
    from core.inference.predictor import Predictor
    from core.model import familiar

    assert (info.path / familiar.FILE).is_file()
    assert info.meta["familiar"]["photos"] == 32 and info.meta["familiar"]["false_refusals"] == 0.05
    predictor = Predictor.from_registry("shapes")
    own = [as_uploaded(make_photo(i % 2, seed=5000 + i)) for i in range(10)]
    answers = predictor.predict_many(own)
    assert sum(isinstance(a, NoneOfYourClassesError) for a in answers) <= 1  # new photos of its own classes
    refused = predictor.predict_many([Image.fromarray(data.astronaut()), Image.fromarray(data.coffee())])
    assert all(isinstance(r, NoneOfYourClassesError) for r in refused), refused
    assert "nearest is disc" in str(refused[0]) or "nearest is square" in str(refused[0])
    assert "looks more like" in str(refused[0])
    (info.path / familiar.FILE).write_bytes(b"not a calibration")  # a broken file: answers, never a traceback
    assert not isinstance(Predictor.from_registry("shapes").predict_many(own[:1])[0], NoneOfYourClassesError)


def test_a_second_run_reuses_the_feature_cache_and_a_changed_folder_does_not(shapes, studio, monkeypatch):
    from core.training import transfer as module

    transfer(shapes, augment=False)
    cached = set((studio / "data" / ".features").glob("*.npy"))
    assert cached
    calls = []
    real = module.extract
    monkeypatch.setattr(module, "extract", lambda *a, **k: calls.append(1) or real(*a, **k))
    transfer(shapes, augment=False)
    assert not calls  # everything came from the cache
    make_photo(1, seed=999).save(shapes / "square" / "new.jpg")
    transfer(shapes, augment=False)
    assert calls  # the folder changed: its features were computed again


def test_the_shipped_catsdogs_model_refuses_what_is_neither():
    from PIL import Image
    from skimage import data

    from core.errors import NotAPetError
    from core.inference.predictor import Predictor

    predictor = Predictor.from_registry("catsdogs")
    cat = predictor.predict(Image.fromarray(data.chelsea()))
    assert cat.label == "cat" and "cat" in cat.looks_like[0]
    for picture in (data.coffee(), data.rocket(), np.stack([data.camera()] * 3, axis=-1)):
        with pytest.raises(NotAPetError, match="doesn't look like a cat or a dog"):
            predictor.predict(Image.fromarray(picture))


def test_fine_tuning_continues_the_run_with_the_top_of_the_backbone_unfrozen(shapes):
    info = transfer(shapes, name="tuned", fine_tune_epochs=1, batch_size=8)
    from core.model import registry

    history = registry.read_history(info)
    assert len(history["loss"]) == 1 + 1  # the head's one converged fit, then the fine-tuning epoch
    assert info.meta["metrics"]["estimate"] is None  # fine-tuning needs its validation photos: the usual splits
    assert info.meta["metrics"]["test_accuracy"] >= 0.75
    # "none of your classes" is calibrated on the fine-tuned features of the training split
    assert info.meta["familiar"]["photos"] == info.meta["train_samples"] < 32
