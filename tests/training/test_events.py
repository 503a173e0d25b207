"""Run events: what the trainer writes is what every reader gets back, and a broken line is skipped."""
import json

from core.training import events, runs


def test_every_kind_reads_back_as_written(tmp_path):
    written = [events.Status("Loading MNIST"),
               events.Start(epochs=2, steps=10, precision="float32", train_samples=300, val_samples=30, config={}),
               events.Batch(epoch=1, epochs=2, steps=10, eta=3.5, batch=4, metrics={"loss": 2.1}),
               events.Epoch(epoch=1, epochs=2, steps=10, eta=1.0, seconds=2.0, lr=1e-3,
                            metrics={"loss": 1.2, "val_accuracy": 0.5}),
               events.Done(model="m", test_accuracy=0.9, test_loss=0.3, seconds=4.0, val_accuracy=0.52,
                           chance_accuracy=0.5),
               events.Failed("out of memory"), events.Cancelled()]
    log = runs.EventLog(tmp_path)
    for event in written:
        log.emit(event)
    assert runs.read_events(tmp_path) == written


def test_a_half_written_or_unknown_line_is_skipped(tmp_path):
    runs.EventLog(tmp_path).emit(events.Status("Loading"))
    with open(tmp_path / runs.EVENTS, "a") as handle:
        handle.write(json.dumps({"type": "epoch", "epoch": 1}) + "\n")  # fields missing
        handle.write(json.dumps({"type": "weather", "sky": "blue"}) + "\n")
        handle.write('{"type": "batch", "epo')  # being written as we read
    assert runs.read_events(tmp_path) == [events.Status("Loading", time=runs.read_events(tmp_path)[0].time)]


def test_a_run_gives_its_progress_result_and_learning_rate(tmp_path):
    log = runs.EventLog(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"learning_rate": 0.01}))
    assert runs.load_run(tmp_path).learning_rate == 0.01  # nothing trained yet: the configured rate
    log.emit(events.Epoch(epoch=1, epochs=2, steps=5, eta=1.0, seconds=1.0, lr=0.004, metrics={"val_accuracy": 0.7}))
    log.emit(events.Batch(epoch=2, epochs=2, steps=5, eta=0.5, batch=3))
    run = runs.load_run(tmp_path)
    assert run.learning_rate == 0.004 and run.val_accuracy == 0.7 and run.progress.batch == 3
    assert run.result is None and run.history["val_accuracy"] == [0.7]
    log.emit(events.Done(model="m", test_accuracy=0.9, test_loss=0.3, seconds=4.0, val_accuracy=0.52,
                         chance_accuracy=0.5))
    run = runs.load_run(tmp_path)
    assert run.status == "done" and run.model == "m" and run.result.near_chance  # 52% against chance 50%


def test_an_epoch_cancelled_half_way_is_not_a_point_on_the_curves():
    import keras

    from core.training.callbacks import ProgressCallback

    emitted = []
    progress = ProgressCallback(emitted.append, total_epochs=3, steps=10)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    progress.set_model(model)
    progress.on_train_begin()
    for epoch, cancelled in ((0, False), (1, True)):
        progress.on_epoch_begin(epoch)
        progress.model.stop_training = cancelled  # what CancelCallback does at a batch
        progress.on_epoch_end(epoch, {"loss": 0.5})
    assert [e.epoch for e in emitted if type(e).__name__ == "Epoch"] == [1]
