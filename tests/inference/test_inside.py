"""Look inside: the stages a model is shown as, the numbers each shows, and one convolution pixel by hand."""
import base64
import io

import keras
import numpy as np
import pytest
from PIL import Image

from core.feature_maps import Scale, filter_pictures, maps_mosaic, vector_cells
from core.inference.inside import Inside
from core.model import builders, presets
from ui.charts import png_source

RNG = np.random.default_rng(7)


def built(preset_name: str, width: float = 0.25, weights: bool = True):
    preset = presets.get_preset(preset_name)
    knobs = preset.knobs(preset.defaults.dropout, batch_norm=preset_name != "mnist-seed", width=width)
    if preset.builder == "lite0_transfer":
        return builders.build_lite0_transfer(presets.input_shape(preset), 3, knobs, weights=weights)
    return builders.build_model(preset, 3, knobs)


def some_input(model) -> np.ndarray:
    return RNG.uniform(0, 255, model.input_shape[1:]).astype(np.float32)


def layer_by_layer(model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each layer's output, calling the layers one after another: a network with no branches."""
    outputs, value = {}, x[None]
    for layer in model.layers[1:]:
        value = layer(value, training=False)
        outputs[layer.name] = np.asarray(value)[0]
    return outputs


@pytest.mark.parametrize("preset_name", ["mnist-seed", "photos-cnn"])
def test_every_stage_shows_what_a_direct_call_of_its_layer_gives(preset_name):
    model = built(preset_name)
    inside = Inside(model)
    x = some_input(model)
    look = inside.look(x)
    direct = layer_by_layer(model, x)
    for stage, shown in zip(inside.stages, look.outputs):
        if stage.kind == "logits":
            dense = model.get_layer(stage.layer)
            kernel, bias = dense.get_weights()
            expected = direct[model.layers[model.layers.index(dense) - 1].name] @ kernel + bias
        else:
            expected = direct[stage.layer]
        assert shown.shape == stage.shape == expected.shape, stage
        np.testing.assert_allclose(shown, expected, rtol=1e-4, atol=1e-5, err_msg=stage.title)
    np.testing.assert_allclose(keras.ops.softmax(look.logits), look.probabilities, atol=1e-6)
    np.testing.assert_allclose(look.probabilities, np.asarray(model(x[None]))[0], atol=1e-6)


def test_mnist_seed_is_shown_stage_by_stage_with_its_maps():
    inside = Inside(built("mnist-seed", width=1.0))
    assert [s.kind for s in inside.stages] == [
        "input", "convolution", "pooling", "dropout", "convolution", "pooling", "dropout", "flatten", "dense",
        "dropout", "logits", "softmax"]
    assert [s.maps for s in inside.stages[:7]] == [1, 32, 32, 32, 64, 64, 64]
    assert inside.stages[1].shape == (26, 26, 32) and inside.stages[1].params == 3 * 3 * 32 + 32
    assert "nothing when the model answers" in inside.stages[3].sentence
    assert all(s.sentence for s in inside.stages)


def test_the_pretrained_backbone_is_its_stem_one_stage_per_resolution_and_its_head():
    model = built("photos-transfer", weights=False)
    inside = Inside(model)
    kinds = [s.kind for s in inside.stages]
    assert kinds[:4] == ["input", "convolution", "batch norm", "activation"]  # the stem, layer by layer
    blocks = [s for s in inside.stages if s.kind == "block"]
    assert [s.shape[0] for s in blocks] == [112, 56, 28, 14, 7]
    assert kinds[-4:] == ["global pooling", "dropout", "logits", "softmax"]
    assert sum(s.params for s in inside.stages[:-1]) == model.count_params()  # every layer is counted once
    x = some_input(model)
    look = inside.look(x)
    for stage in blocks:  # a summarised stage shows its group's last layer, as a sub-model computes it
        probe = keras.Model(model.input, model.get_layer(stage.layer).output)
        np.testing.assert_allclose(look.outputs[inside.stages.index(stage)], np.asarray(probe(x[None]))[0],
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("preset_name", ["mnist-seed", "mnist-bn", "photos-transfer"])
def test_a_pixel_of_the_first_convolution_is_its_window_times_its_kernel_plus_its_bias(preset_name):
    model = built(preset_name, weights=False) if preset_name == "photos-transfer" else built(preset_name)
    inside = Inside(model)
    look = inside.look(some_input(model))
    height, width, filters = inside.stages[inside.first_conv_stage].shape
    for row, column in [(0, 0), (height - 1, width - 1), (height // 2, 1), (3, width // 3)]:  # corners pad
        work = inside.filter_at_work(look, row, column, filters - 1)
        assert work.activated == pytest.approx(work.value, abs=1e-4)
        assert work.window.shape == work.kernel.shape
    if preset_name == "mnist-bn":  # batch norm and ReLU follow the convolution, pixel by pixel
        assert [title for title, _ in work.then] == ["batch norm", "activation"]
        assert work.then[-1][1] == pytest.approx(max(work.then[0][1], 0.0), abs=1e-6)


def test_a_mosaic_has_one_tile_per_map_on_one_scale():
    maps = RNG.normal(size=(14, 14, 40)).astype(np.float32)
    mosaic = maps_mosaic(maps)
    assert mosaic.count == 40 and mosaic.scale.signed and mosaic.scale.low == -mosaic.scale.high
    width, height = mosaic.shown_size
    x, y = mosaic.centre(39)
    assert 0 < x < width and 0 < y < height and mosaic.levels.shape[0] % (14 + 1) == 14
    assert Scale.of(np.abs(maps)).signed is False
    cells, scale = vector_cells(np.arange(100, dtype=np.float32))
    assert cells.shape == (2, 64, 3) and scale.high == 99 and (cells[1, 36:] == 255).all()  # blank end
    assert len(filter_pictures(RNG.normal(size=(8, 3, 3, 3)))) == 8


def test_a_mosaic_sent_as_a_palette_png_shows_exactly_its_colours():
    mosaic = maps_mosaic(RNG.normal(size=(9, 9, 12)).astype(np.float32))
    sent = png_source(mosaic.sent(), mosaic.scale.table)
    shown = np.array(Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))).convert("RGB"))
    assert np.array_equal(shown, mosaic.scale.table[mosaic.levels])
    assert (shown[:, 9] == 255).all()  # the gap between the first two tiles stays white
