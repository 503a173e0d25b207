"""Presets: each builds a functional model that takes 0..255 input and returns probabilities."""
import numpy as np
import pytest

from core.errors import ModelError
from core.model.builders import build_model
from core.model.presets import PRESETS, get_preset
from core.training.config import TrainConfig, bounds


@pytest.mark.parametrize("name", ["mnist-seed", "mnist-bn", "photos-cnn", "photos-xception"])
def test_preset_builds_with_rescaling_inside(name):
    preset = get_preset(name)
    model = build_model(preset, 3, preset.knobs(0.3, batch_norm=True, width=0.25))
    assert model.layers[1].__class__.__name__ == "Rescaling"
    channels = 1 if preset.kind == "digits" else 3
    batch = np.random.default_rng(0).uniform(0, 255, (2, *preset.image_size, channels)).astype(np.float32)
    probabilities = np.asarray(model(batch, training=False))
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def dropout_rates(model) -> list[float]:
    return [layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"]


def test_seed_architecture_matches_the_seeds():
    cfg = TrainConfig(dataset="mnist", preset="mnist-seed").ready()
    preset = get_preset("mnist-seed")
    model = build_model(preset, 10, preset.knobs(cfg.dropout, cfg.batch_norm, cfg.width))
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Rescaling", "Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "MaxPooling2D",
                     "Dropout", "Flatten", "Dense", "Dropout", "Dense"]
    assert dropout_rates(model) == [0.25, 0.25, 0.5]  # the preset's default dropout is the seed's rates
    assert model.count_params() == 225_034


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_dropout_setting_is_the_last_layers_rate_in_every_preset(name):
    """One meaning everywhere: the rate before the classifier; no layer is capped or rescaled silently."""
    preset = get_preset(name)
    low, high = bounds("dropout")
    for dropout in (low, 0.5, high):
        rates = preset.dropout_rates(dropout)
        assert rates[-1] == dropout and all(0 <= rate <= dropout for rate in rates)
    if not preset.backbone:
        model = build_model(preset, 3, preset.knobs(0.6, True, 0.25))
        assert dropout_rates(model) == list(preset.dropout_rates(0.6))


def test_batch_norm_and_width_knobs_change_the_network():
    preset = get_preset("mnist-bn")
    with_bn = build_model(preset, 10, preset.knobs(0.3, True, 1.0))
    without = build_model(preset, 10, preset.knobs(0.3, False, 1.0))
    narrow = build_model(preset, 10, preset.knobs(0.3, True, 0.5))
    assert any(layer.__class__.__name__ == "BatchNormalization" for layer in with_bn.layers)
    assert not any(layer.__class__.__name__ == "BatchNormalization" for layer in without.layers)
    assert narrow.count_params() < with_bn.count_params() / 2


def test_transfer_is_flat_for_grad_cam_with_a_frozen_backbone_and_the_old_name_works():
    from core.inference.gradcam import last_conv_layer
    from core.model.builders import build_lite0_transfer

    model = build_lite0_transfer((96, 96, 3), 2, get_preset("photos-transfer").knobs(0.2, True, 1.0),
                                 weights=False)
    assert last_conv_layer(model).name == "head_activation"
    assert {layer.name for layer in model.layers if layer.trainable} == {"classifier_dropout", "classifier"}
    assert get_preset("catsdogs-transfer").name == "photos-transfer"
    assert get_preset("catsdogs-seed").name == "photos-cnn"
    assert get_preset("catsdogs-xception-small").name == "photos-xception"


def test_unknown_preset_lists_the_choices():
    with pytest.raises(ModelError, match="mnist-seed"):
        get_preset("resnet-9000")
