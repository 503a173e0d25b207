"""Inside a CNN: what each stage of a model makes of one input, from one call of a multi-output model.

`Inside(model)` picks the stages a student should see, in order (the input as the model receives it,
each convolution, batch norm, activation and pooling, flatten or global pooling, the dense layers, the
logits and the softmax), and builds one `keras.Model` over the same weights that returns all of them at
once. A model on the pretrained backbone (its layers named stem_, block<n>_ and head_) shows the stem, one
stage per resolution and the head, rather than its 140 layers. `filter_at_work` recomputes one pixel of
the first convolution by hand: the window, the kernel, their products, the sum plus the bias.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.errors import ModelError

SENTENCES = {
    "input": "The picture as the network receives it, its pixel values rescaled: one map per colour channel.",
    "convolution": "Each filter slides a small window over the maps below it, multiplies what it sees by its "
                   "weights and adds them up. Its map lights up wherever its pattern appears: one map per filter.",
    "batch norm": "Rescales each map with the mean and spread it learnt in training, so the next layer always "
                  "receives numbers of the same size.",
    "activation": "Keeps the positive values and sets the negative ones to zero: only what a filter found "
                  "passes on.",
    "pooling": "Keeps the largest value of each small patch: the maps shrink, and a feature that moves a little "
               "still counts.",
    "dropout": "Does nothing when the model answers: its output equals its input. In training it silenced a "
               "random share of these values at every step, so the network could not rely on any one of them.",
    "flatten": "Lays every value of every map out in one long row, so a dense layer can weigh them all.",
    "global pooling": "Averages each map to one number: how strongly each feature appears anywhere in the "
                      "picture.",
    "dense": "Each of its outputs is a weighted sum of all its inputs plus a bias, followed by ReLU: the "
             "features found so far, combined.",
    "add": "Adds a block's input back to its output (a shortcut), so each block only has to learn a change.",
    "block": "A group of layers of the pretrained backbone (widen, filter each map, narrow again), seen at its "
             "output. Each resolution halves the maps and finds larger patterns.",
    "logits": "The last dense layer's raw scores, one per class: a weighted sum of the features plus a bias. "
              "The larger the score, the more evidence for that class.",
    "softmax": "Turns the scores into probabilities: e to the power of each score, divided by the sum of them "
               "all, so every bar is positive and they add up to 100%.",
}
BACKBONE_PART = re.compile(r"^(stem|head|block(\d+))_")
_KINDS = [  # the first match wins: a depthwise or separable convolution is a convolution to a student
    ((layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D), "convolution"),
    ((layers.BatchNormalization,), "batch norm"),
    ((layers.Activation, layers.ReLU), "activation"),
    ((layers.MaxPooling2D, layers.AveragePooling2D), "pooling"),
    ((layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D), "global pooling"),
    ((layers.Flatten,), "flatten"),
    ((layers.Dropout,), "dropout"),
    ((layers.Add,), "add"),
    ((layers.Dense,), "dense"),
]


@dataclass(frozen=True)
class Stage:
    """One stage of the strip: what it shows and the parameters of the layers it stands for."""

    layer: str  # the layer whose output this stage shows (for the logits: the last dense layer)
    kind: str
    title: str
    shape: tuple[int, ...]  # its output, without the batch
    params: int

    @property
    def sentence(self) -> str:
        return SENTENCES[self.kind]

    @property
    def maps(self) -> int:
        """How many maps (channels) a spatial stage shows; 0 for a vector."""
        return self.shape[-1] if len(self.shape) == 3 else 0


@dataclass
class Look:
    """Every stage's output for one input (batch removed, float32), aligned with `Inside.stages`."""

    outputs: list[np.ndarray]
    conv_input: np.ndarray  # what the first convolution received, for `filter_at_work`

    @property
    def probabilities(self) -> np.ndarray:
        return self.outputs[-1]

    @property
    def logits(self) -> np.ndarray:
        return self.outputs[-2]


@dataclass
class Work:
    """One output pixel of the first convolution, computed by hand."""

    row: int
    column: int
    channel: int
    top: int  # the window's top-left corner on the input (negative inside the zero padding)
    left: int
    window: np.ndarray  # (k, k, input channels), zeros where the window hangs over the padding
    kernel: np.ndarray  # (k, k, input channels)
    bias: float
    activation: str  # "linear" or the name of the activation fused into the convolution
    value: float  # the pixel as the model computed it (after a fused activation)
    then: list[tuple[str, float]] = field(default_factory=list)  # the same pixel in the stages that follow

    @property
    def products(self) -> np.ndarray:
        return self.window * self.kernel

    @property
    def total(self) -> float:
        """The sum of the products plus the bias: the convolution's output before any fused activation."""
        return float(self.products.sum(dtype=np.float64) + self.bias)

    @property
    def activated(self) -> float:
        return max(self.total, 0.0) if self.activation == "relu" else self.total


def kind_of(layer) -> str | None:
    if isinstance(layer, layers.Rescaling):
        return "input"
    for types, kind in _KINDS:
        if isinstance(layer, types):
            return kind
    return None  # an input layer, or augmentation: nothing happens there at prediction time


def _title(layer, kind: str) -> str:
    if kind == "convolution":
        size = "×".join(str(k) for k in layer.kernel_size)
        what = {"DepthwiseConv2D": "depthwise ", "SeparableConv2D": "separable "}.get(type(layer).__name__, "")
        fused = getattr(layer, "activation", None)
        relu = " + ReLU" if fused is not None and fused.__name__ == "relu" else ""
        stride = f", stride {layer.strides[0]}" if layer.strides[0] > 1 else ""
        return f"{what}convolution {size}{stride}{relu}"
    if kind == "pooling":
        return f"{type(layer).__name__.replace('2D', '').replace('Pooling', ' pooling').lower()} " \
               f"{'×'.join(str(p) for p in layer.pool_size)}"
    if kind == "dropout":
        return f"dropout {layer.rate:g} (off when answering)"
    if kind == "dense":
        return f"dense, {layer.units} units"
    return kind


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[1:])


def _plain_stages_of(model_layers) -> list[Stage]:
    """One stage per layer that does something a student can see, and the input."""
    found = []
    for layer in model_layers:
        kind = kind_of(layer)
        if kind is not None:
            found.append(Stage(layer.name, kind, _title(layer, kind), _shape(layer.output), layer.count_params()))
    return found


def _backbone_stages(model) -> list[Stage]:
    """The pretrained backbone summarised: one stage per resolution of its blocks, and its head, each shown at
    its last layer; the stem and the model's own layers one stage each."""
    found = []
    for key, group in itertools.groupby(model.layers, key=_backbone_key(model)):
        group = list(group)
        last = group[-1]
        if key is None:
            found.extend(_plain_stages_of(group))
            continue
        if key == "head":
            title, kind = "head: convolution 1×1, batch norm, ReLU", "convolution"
        else:
            first, end = (BACKBONE_PART.match(layer.name).group(2) for layer in (group[0], last))
            title, kind = f"blocks {first}–{end} at {key[1]}×{key[1]}" if first != end else \
                f"block {first} at {key[1]}×{key[1]}", "block"
        found.append(Stage(last.name, kind, title, _shape(last.output), sum(layer.count_params() for layer in group)))
    return found


def _backbone_key(model):
    """layer → what it is grouped under: "head", ("blocks", the block's output resolution), or None (the stem's
    three layers are shown one by one: its convolution is the model's first)."""
    resolution = {}
    for layer in model.layers:  # a block's resolution is its last layer's, so block 1 (112 → 56) counts at 56
        part = BACKBONE_PART.match(layer.name)
        if part and part.group(2):
            resolution[part.group(2)] = _shape(layer.output)[0]

    def key(layer):
        part = BACKBONE_PART.match(layer.name)
        if part is None or part.group(1) == "stem":
            return None
        return ("blocks", resolution[part.group(2)]) if part.group(2) else part.group(1)
    return key


def stages_of(model) -> list[Stage]:
    """The strip of stages for `model`, ending with the logits and the softmax of its last dense layer."""
    uses_backbone = any(BACKBONE_PART.match(layer.name) for layer in model.layers)
    found = _backbone_stages(model) if uses_backbone else _plain_stages_of(model.layers)
    last = found[-1]
    if last.kind != "dense" or model.get_layer(last.layer).activation.__name__ != "softmax":
        raise ModelError("This model does not end with a softmax layer, so Look inside cannot show it.")
    classes = last.shape[-1]
    found[-1] = Stage(last.layer, "logits", f"logits: dense, {classes} scores", last.shape, last.params)
    found.append(Stage(last.layer, "softmax", f"softmax: {classes} probabilities", last.shape, 0))
    return found




class Inside:
    """A model opened up: its stages, and one traced call that returns all of their outputs for an input.
    Safe to share between sessions, as a traced function is."""

    def __init__(self, model):
        self.model = model
        self.stages = stages_of(model)
        self.first_conv = next(layer for layer in model.layers if type(layer) is layers.Conv2D)
        classifier = model.get_layer(self.stages[-1].layer)
        tensors = [classifier.input if stage.kind == "logits" else model.get_layer(stage.layer).output
                   for stage in self.stages]
        probe = keras.Model(model.input, [*tensors, self.first_conv.input])  # the same weights, many outputs
        spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
        self._forward = tf.function(lambda x: probe(x, training=False), input_signature=[spec])
        self._kernel, self._bias = (np.asarray(w, np.float32) for w in classifier.get_weights())

    def look(self, model_input: np.ndarray) -> Look:
        """Every stage's output for one model input (H, W, C in 0..255, as `Predictor.model_input` gives)."""
        outputs = [np.asarray(o, np.float32)[0] for o in self._forward(np.asarray(model_input, np.float32)[None])]
        *stage_outputs, conv_input = outputs
        logits_at = len(self.stages) - 2
        stage_outputs[logits_at] = stage_outputs[logits_at] @ self._kernel + self._bias
        return Look(stage_outputs, conv_input)

    def first_filters(self) -> np.ndarray:
        """The first convolution's learned kernels, (filters, k, k, input channels)."""
        return np.moveaxis(np.asarray(self.first_conv.get_weights()[0], np.float32), -1, 0)

    @property
    def first_conv_stage(self) -> int:
        """The index of the stage that shows the first convolution's output."""
        return next(i for i, stage in enumerate(self.stages) if stage.layer == self.first_conv.name)

    def filter_at_work(self, look: Look, row: int, column: int, channel: int) -> Work:
        """Output pixel (row, column) of the first convolution's filter `channel`, recomputed from its window."""
        conv = self.first_conv
        at = self.first_conv_stage
        out_h, out_w, filters = self.stages[at].shape
        if not (0 <= row < out_h and 0 <= column < out_w and 0 <= channel < filters):
            raise ModelError(f"Pick a row under {out_h}, a column under {out_w} and a filter under {filters}.")
        kernel_h, kernel_w = conv.kernel_size
        stride_h, stride_w = conv.strides
        image = look.conv_input
        top = row * stride_h - _padding_before(conv.padding, image.shape[0], out_h, kernel_h, stride_h)
        left = column * stride_w - _padding_before(conv.padding, image.shape[1], out_w, kernel_w, stride_w)
        padded = np.pad(image, ((kernel_h, kernel_h), (kernel_w, kernel_w), (0, 0)))
        window = padded[top + kernel_h:top + 2 * kernel_h, left + kernel_w:left + 2 * kernel_w]
        weights = conv.get_weights()
        bias = float(weights[1][channel]) if conv.use_bias else 0.0
        then = []
        for stage, output in zip(self.stages[at + 1:], look.outputs[at + 1:]):
            if stage.kind not in ("batch norm", "activation") or output.shape != look.outputs[at].shape:
                break  # only what acts on each pixel alone carries this pixel on
            then.append((stage.title, float(output[row, column, channel])))
        return Work(row, column, channel, top, left, window.copy(), np.asarray(weights[0][..., channel], np.float32),
                    bias, conv.activation.__name__, float(look.outputs[at][row, column, channel]), then)


def _padding_before(padding: str, size: int, out: int, kernel: int, stride: int) -> int:
    """Zeros Keras adds before the first row or column: none for "valid", half of what "same" needs (the
    smaller half first, as TensorFlow does)."""
    if padding == "valid":
        return 0
    return max((out - 1) * stride + kernel - size, 0) // 2
