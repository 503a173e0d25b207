"""The anchor for bench.train_throughput: the seeds' plain Keras script, same architecture.

float64 numpy scaled to 0..1, model.fit with batch 128, Adam, validation_split=0.1.
Usage: python -m bench.plain_keras_mnist EPOCHS
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
from keras import layers

from bench._mnist import read_idx

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
keras.utils.set_random_seed(1337)
x_train = read_idx("train-images-idx3-ubyte").reshape(-1, 28, 28, 1) / 255.0
y_train = read_idx("train-labels-idx1-ubyte").astype("int64")
x_test = read_idx("t10k-images-idx3-ubyte").reshape(-1, 28, 28, 1) / 255.0
y_test = read_idx("t10k-labels-idx1-ubyte").astype("int64")

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Dropout(0.25),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Dropout(0.25),
    layers.Flatten(),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        print(json.dumps({"epoch": epoch + 1, "seconds": time.perf_counter() - self.started}), flush=True)


model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1, verbose=0, callbacks=[EpochTimer()])
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(json.dumps({"test_accuracy": float(accuracy), "train_samples": int(len(x_train) * 0.9)}), flush=True)
