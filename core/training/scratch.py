"""The from-scratch fit: build the preset's network, fit it on the tf.data pipeline, and hand back a float32
model with the test split's probabilities."""
from __future__ import annotations

from dataclasses import asdict

from keras import ops

from core import workspace
from core.data import pipeline
from core.errors import StudioError
from core.evaluation import predict_probabilities
from core.model import registry
from core.model.builders import build_model
from core.training import recipe
from core.training.config import TrainConfig
from core.training.distributed import fit_loop
from core.training.events import Start


def fit(cfg: TrainConfig, preset, data, train_split, val_split, emit: recipe.Emit, should_stop: recipe.ShouldStop,
        strategy) -> recipe.FitResult:
    """Build and fit the model under `strategy` and the configured precision."""
    steps = recipe.steps_per_epoch(len(train_split), cfg)
    augment = pipeline.augmenter(data.kind, cfg.seed) if cfg.augment else None
    train_ds = pipeline.pipeline(data, train_split, preset.image_size, cfg.batch_size, True, augment)
    val_ds = pipeline.pipeline(data, val_split, preset.image_size, cfg.batch_size, False)
    num_classes = len(data.class_names)
    knobs = preset.knobs(cfg.dropout, cfg.batch_norm, cfg.width)
    precision = recipe.resolve_precision(cfg.precision)
    callbacks, cancel = recipe.callbacks_for(cfg, emit, should_stop, steps)
    emit(Start(epochs=cfg.epochs + cfg.fine_tune_epochs, steps=steps, precision=precision,
               train_samples=len(train_split), val_samples=len(val_split), config=asdict(cfg)))
    weights = recipe.class_weights(train_split.y, num_classes, cfg.class_weights)
    with recipe.precision_policy(precision):
        with strategy.scope():
            model = compiled_model(cfg, preset, num_classes, knobs, steps, precision)
            if cfg.init_from:
                start_from(model, cfg.init_from, workspace.named(cfg.workspace))
        if cfg.strategy == "multiworker":  # Keras' fit() cannot run under this strategy (see distributed.py)
            history = fit_loop(model, strategy, train_ds, val_ds, len(train_split), cfg.batch_size, cfg.epochs,
                               callbacks, weights)
        else:
            history = recipe.history_of(model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs,
                                                  callbacks=callbacks, verbose=0, shuffle=False,
                                                  class_weight=weights))
    if precision == "mixed" or cfg.strategy == "multiworker":
        # The saved model computes in float32 and lives outside any strategy: portable, and exact to evaluate.
        model = float32_twin(model, preset, num_classes, knobs)
    if cancel.cancelled:
        return recipe.FitResult(model, history, None)
    return recipe.FitResult(model, history, predict_probabilities(model, data, data.test, preset.image_size,
                                                                  preset.crop))


_kept: dict[tuple, object] = {}  # this process's last compiled network, by what its training step was traced for


def compiled_model(cfg: TrainConfig, preset, num_classes: int, knobs, steps: int, precision: str):
    """The preset's network, built and compiled for this run, its optimizer's slots made.

    A warm worker trains run after run, and a class often runs the same settings. Keras traces a network's
    training step once per compiled model (about a second here), so the process keeps its last network: when
    the next run asks for the same one, with the same schedule, precision and steps, it comes back exactly as a
    fresh build would (the same seeded weights and dropout seeds, every optimizer slot and the step at zero) with
    its traced steps. Distributed runs always build anew."""
    fresh = build_model(preset, num_classes, knobs)
    recipe.suit_batch_norm(fresh, cfg.epochs * steps)
    if cfg.strategy != "default":
        return _compiled(fresh, cfg, steps)
    key = (preset.name, num_classes, knobs, precision, cfg.steps_per_execution, cfg.lr_schedule, cfg.learning_rate,
           cfg.epochs * steps)
    kept = _kept.get(key)
    if kept is None:
        _kept.clear()
        kept = _kept[key] = _compiled(fresh, cfg, steps)
        return kept
    for target, source in zip(kept.variables, fresh.variables, strict=True):  # weights, statistics, seeds
        target.assign(source)
    for slot in kept.optimizer.variables:
        slot.assign(ops.zeros_like(slot))
    return kept


def _compiled(model, cfg: TrainConfig, steps: int):
    recipe.compile_model(model, cfg, steps)
    model.optimizer.build(model.trainable_variables)  # its slots exist before any replica runs
    return model


def start_from(model, name: str, where: workspace.Workspace) -> None:
    """Copy the weights of a model of the workspace `where` into `model`, which must be the same network."""
    _, source = registry.load(name, where.registry)
    try:
        model.set_weights(source.get_weights())
    except ValueError:
        raise StudioError(f"The model {name!r} is another network than this preset builds; start from a model "
                          "trained with the same preset, width and classes.") from None


def float32_twin(model, preset, num_classes: int, knobs):
    """The same network built in float32 with the trained weights (mixed precision keeps float32 weights)."""
    twin = build_model(preset, num_classes, knobs)
    twin.set_weights(model.get_weights())
    return twin
