"""Re-evaluate a shipped 28x28 model on its dataset's official test images: the digit model on MNIST's
10,000, the clothing model on Fashion-MNIST's 10,000.

Independent of `core`: its own IDX reader, Keras' loader with safe_mode=True, raw 0..255 pixels in, argmax
out. Usage: MNIST_DIR=../shared/data/mnist python -m bench.accuracy [mnist|fashion] [MODEL.keras]
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from bench._mnist import ROOT, fashion_folder, mnist_folder, read_idx

# dataset: (where its files are, the shipped model, the target its accuracy is held to)
SHIPPED = {"mnist": (mnist_folder, "mnist", 0.996), "fashion": (fashion_folder, "fashion", 0.935)}


def main() -> int:
    import keras

    args = sys.argv[1:]
    dataset = args.pop(0) if args and args[0] in SHIPPED else "mnist"
    where, model_name, target = SHIPPED[dataset]
    model_path = Path(args[0]) if args else ROOT / "models" / model_name / "model.keras"
    folder = where()
    images = read_idx("t10k-images-idx3-ubyte", folder).astype(np.float32)[..., None]
    labels = read_idx("t10k-labels-idx1-ubyte", folder).astype(np.int64)
    model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    started = time.perf_counter()
    predicted = np.concatenate([np.asarray(model(images[i:i + 1000], training=False)).argmax(axis=1)
                                for i in range(0, len(images), 1000)])
    seconds = time.perf_counter() - started
    accuracy = float((predicted == labels).mean())
    print(f"model      {model_path} ({model_path.stat().st_size / 1e6:.2f} MB)")
    print(f"test set   {len(labels)} official {dataset} test images from {folder}")
    print(f"accuracy   {accuracy:.4f}  ({int((predicted != labels).sum())} errors)  target >= {target:.4f}")
    print(f"time       {seconds:.2f} s for the {len(labels):,} images")
    return 0 if accuracy >= target else 1


if __name__ == "__main__":
    sys.exit(main())
