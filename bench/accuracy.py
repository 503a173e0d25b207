"""Re-evaluate the shipped digit model on the 10,000 official MNIST test images.

Independent of `core`: its own IDX reader, Keras' loader with safe_mode=True, raw 0..255
pixels in, argmax out. Usage: MNIST_DIR=../shared/data/mnist python -m bench.accuracy [MODEL.keras]
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from bench._mnist import ROOT, mnist_folder, read_idx


def main() -> int:
    import keras

    model_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "models" / "mnist" / "model.keras"
    folder = mnist_folder()
    images = read_idx("t10k-images-idx3-ubyte").astype(np.float32)[..., None]
    labels = read_idx("t10k-labels-idx1-ubyte").astype(np.int64)
    model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    started = time.perf_counter()
    predicted = np.concatenate([np.asarray(model(images[i:i + 1000], training=False)).argmax(axis=1)
                                for i in range(0, len(images), 1000)])
    seconds = time.perf_counter() - started
    accuracy = float((predicted == labels).mean())
    print(f"model      {model_path} ({model_path.stat().st_size / 1e6:.2f} MB)")
    print(f"test set   {len(labels)} official MNIST test images from {folder}")
    print(f"accuracy   {accuracy:.4f}  ({int((predicted != labels).sum())} errors)  target >= 0.9960")
    print(f"time       {seconds:.2f} s for the 10,000 images")
    return 0 if accuracy >= 0.996 else 1


if __name__ == "__main__":
    sys.exit(main())
