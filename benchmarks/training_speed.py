"""Training speed: plain ``model.fit`` against ``mnist_lib.train`` on the seed recipe, in one run.

All train the reference network with Adam, sparse categorical cross-entropy, batch size 32 and
10 epochs on all 60,000 training images (no validation split), then report test accuracy:

- ``plain model.fit``: what a newcomer writes, with TensorFlow's default threading (the baseline);
- ``fit, 1 thread/op``: the same ``fit`` with mnist_lib's threading (one thread per operation),
  to show how much of the gain is threading and how much the compiled epoch loop;
- ``mnist_lib.train``: the library's training.

Each run happens in a fresh process, because TensorFlow's threading is fixed once its runtime
starts (and importing mnist_lib sets it). Runs alternate so that machine noise hits all alike,
and the table reports medians; the speed-up is against the baseline.

    .venv/bin/python benchmarks/training_speed.py --repeats 3

Needs MNIST (``MNIST_DATA_DIR`` or the cache). Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

EPOCHS = 10
BATCH_SIZE = 32
SEED = 0


def _plain_fit() -> dict[str, float]:
    """What a newcomer writes: the seed network, compiled and fitted with Keras' defaults."""
    import keras

    from mnist_lib.data import load_mnist
    from mnist_lib.models import seed_mlp

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    keras.utils.set_random_seed(SEED)
    model = seed_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    seconds = time.perf_counter() - started
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {"seconds": seconds, "test_accuracy": float(test_accuracy)}


def _mnist_lib_train() -> dict[str, float]:
    """The same recipe through mnist_lib.train (no cache)."""
    from mnist_lib.data import load_mnist
    from mnist_lib.evaluate import accuracy, predict_proba
    from mnist_lib.preprocess import scale_images
    from mnist_lib.train import SEED_RECIPE, train

    data = load_mnist()
    config = SEED_RECIPE.replace(validation_size=0, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED)
    result = train(config, data)
    predictions = predict_proba(result.model, scale_images(data.test.images)).argmax(axis=1)
    return {
        "seconds": result.train_seconds,
        "test_accuracy": accuracy(data.test.labels, predictions),
    }


WORKERS = {
    "plain model.fit": _plain_fit,
    "fit, 1 thread/op": _plain_fit,
    "mnist_lib.train": _mnist_lib_train,
}
DEFAULT_THREADING = {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}
"""0 lets TensorFlow choose, as it does when nothing is set; mnist_lib keeps a value already set."""


def _run_worker(name: str) -> dict[str, float]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    for key in DEFAULT_THREADING:
        env.pop(key, None)
    if name == "plain model.fit":
        env.update(DEFAULT_THREADING)
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", name],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"worker {name!r} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker]()))
        return

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in WORKERS}
    for repeat in range(1, args.repeats + 1):
        for name in WORKERS:
            result = _run_worker(name)
            runs[name].append(result)
            print(
                f"run {repeat}/{args.repeats}  {name:<16} {result['seconds']:7.1f} s  "
                f"test accuracy {result['test_accuracy']:.4f}",
                flush=True,
            )

    steps = EPOCHS * (60_000 // BATCH_SIZE)
    print(
        f"\nseed recipe, {EPOCHS} epochs, batch {BATCH_SIZE}, {args.repeats} run(s) each, medians"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}"
    )
    print(f"{'':16} {'train s':>8} {'s/epoch':>8} {'samples/s':>10} {'ms/step':>8} {'test acc':>9}")
    medians = {}
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        accuracy = statistics.median(r["test_accuracy"] for r in results)
        medians[name] = (seconds, accuracy)
        print(
            f"{name:16} {seconds:8.1f} {seconds / EPOCHS:8.2f} {60_000 * EPOCHS / seconds:10.0f} "
            f"{1000 * seconds / steps:8.3f} {accuracy:9.4f}"
        )
    plain_s, plain_acc = medians["plain model.fit"]
    lib_s, lib_acc = medians["mnist_lib.train"]
    print(
        f"\nspeed-up: {plain_s / lib_s:.2f}x   "
        f"accuracy difference: {100 * (lib_acc - plain_acc):+.2f} points"
    )


if __name__ == "__main__":
    main()
