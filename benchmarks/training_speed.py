"""Training speed: plain ``model.fit`` against ``mnist_lib.train`` on the reference recipe.

All three train the reference network with Adam, sparse categorical cross-entropy, batch size 32,
seed 0 and 10 epochs on all 60,000 training images (no validation split), then report test
accuracy:

- ``plain model.fit``: what a newcomer writes, with TensorFlow's default threading (the baseline);
- ``fit, 1 thread/op``: the same ``fit`` with mnist_lib's threading (one thread per operation),
  to show how much of the gain is threading and how much the compiled epoch loop;
- ``mnist_lib.train``: the library's training.

Then the book's best model (the convolutional network trained on augmented images) trains a few
epochs with mnist_lib at its own thread count, for its time per epoch.

Each run happens in a fresh process, because TensorFlow's threading is fixed once its runtime
starts (and importing mnist_lib sets it). Runs alternate so that machine noise hits all alike;
the table reports medians, and the speed-up is against the baseline.

    .venv/bin/python -m benchmarks.training_speed --repeats 3

Needs MNIST (``MNIST_DATA_DIR`` or the cache). Not a test: it prints and records, it asserts
nothing. Results go to ``benchmarks/results/training.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import child_env, median, write_results
from benchmarks.tables import Table

EPOCHS = 10
BATCH_SIZE = 32
SEED = 0
TRAIN_IMAGES = 60_000
STEPS_PER_EPOCH = TRAIN_IMAGES // BATCH_SIZE
CNN_EPOCHS = 3
SPEEDUP_TARGET = 5.0
ACCURACY_TOLERANCE = 0.3
"""Targets: mnist_lib at least this many times faster, at test accuracy within these points."""

BASELINE = "plain model.fit"
LIBRARY = "mnist_lib.train"


def _plain_fit() -> dict[str, Any]:
    """What a newcomer writes: the seed network, compiled and fitted with Keras' defaults."""
    import keras

    from mnist_lib.data import load_mnist
    from mnist_lib.models import seed_mlp

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    keras.utils.set_random_seed(SEED)
    model = seed_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    epoch_seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            epoch_seconds.append(time.perf_counter() - self.started)

    started = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[EpochTimer()],
    )
    seconds = time.perf_counter() - started
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {
        "seconds": seconds,
        "epoch_seconds": epoch_seconds,
        "test_accuracy": float(test_accuracy),
    }


def _mnist_lib_train() -> dict[str, Any]:
    """The same recipe through mnist_lib.train (no cache)."""
    from mnist_lib.data import load_mnist
    from mnist_lib.evaluate import accuracy, predict_proba
    from mnist_lib.preprocess import scale_images
    from mnist_lib.train import SEED_RECIPE, EpochLog, train

    data = load_mnist()
    config = SEED_RECIPE.replace(validation_size=0, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED)
    epoch_seconds: list[float] = []

    def collect(log: EpochLog) -> None:
        epoch_seconds.append(log.seconds)

    result = train(config, data, progress=collect)
    predictions = predict_proba(result.model, scale_images(data.test.images)).argmax(axis=1)
    return {
        "seconds": result.train_seconds,
        "epoch_seconds": epoch_seconds,
        "test_accuracy": accuracy(data.test.labels, predictions),
    }


def _best_cnn_epochs() -> dict[str, Any]:
    """A few epochs of the best CNN recipe, for its time per epoch (no accuracy: unfinished)."""
    from mnist_lib.recipes import BEST_CNN
    from mnist_lib.train import EpochLog, train

    epoch_seconds: list[float] = []

    def collect(log: EpochLog) -> None:
        epoch_seconds.append(log.seconds)

    result = train(BEST_CNN.replace(epochs=CNN_EPOCHS), progress=collect)
    return {"seconds": result.train_seconds, "epoch_seconds": epoch_seconds}


WORKERS = {
    BASELINE: _plain_fit,
    "fit, 1 thread/op": _plain_fit,
    LIBRARY: _mnist_lib_train,
    "best CNN": _best_cnn_epochs,
}
DEFAULT_THREADING = {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}
"""0 lets TensorFlow choose, as it does when nothing is set; mnist_lib keeps a value already set."""


def _run_worker(name: str) -> dict[str, Any]:
    env = child_env()
    for key in DEFAULT_THREADING:
        env.pop(key, None)
    if name == BASELINE:
        env.update(DEFAULT_THREADING)
    elif name == "best CNN":
        from mnist_lib.models import training_threads

        env["TF_NUM_INTRAOP_THREADS"] = str(training_threads("cnn"))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.training_speed", "--worker", name],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"worker {name!r} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Summaries, shared by the printout and the book's appendix


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """Medians per run kind, the speed-up, the accuracy difference and whether targets are met."""
    settings = document["settings"]
    samples = TRAIN_IMAGES * settings["epochs"]
    rows = {}
    for name, runs in document["runs"].items():
        seconds = median(run["seconds"] for run in runs)
        rows[name] = {
            "seconds": seconds,
            "epoch_seconds": median(median(run["epoch_seconds"]) for run in runs),
            "samples_per_second": samples / seconds,
            "test_accuracy": median(run["test_accuracy"] for run in runs),
        }
    base, lib = rows[BASELINE], rows[LIBRARY]
    speedup = base["seconds"] / lib["seconds"]
    points = 100 * (lib["test_accuracy"] - base["test_accuracy"])
    cnn_runs = document["cnn"]["runs"]
    first = median(run["epoch_seconds"][0] for run in cnn_runs)
    later = median(s for run in cnn_runs for s in run["epoch_seconds"][1:])
    return {
        "rows": rows,
        "speedup": speedup,
        "accuracy_points": points,
        "speedup_met": speedup >= SPEEDUP_TARGET,
        "accuracy_met": abs(points) <= ACCURACY_TOLERANCE,
        "cnn_first_epoch_seconds": first,
        "cnn_epoch_seconds": later,
        "cnn_samples_per_second": document["cnn"]["train_images"] / later,
        "cnn_full_minutes": document["cnn"]["full_epochs"] * later / 60,
    }


def table(document: dict[str, Any]) -> Table:
    """The reference recipe's runs side by side."""
    result = summary(document)
    base_seconds = result["rows"][BASELINE]["seconds"]
    rows = [
        [
            name,
            f"{row['seconds']:.1f}",
            f"{row['epoch_seconds']:.2f}",
            f"{row['samples_per_second']:,.0f}",
            f"{100 * row['test_accuracy']:.2f}%",
            f"{base_seconds / row['seconds']:.2f}x",
        ]
        for name, row in result["rows"].items()
    ]
    header = ["run", "train s", "s/epoch", "images/s", "test accuracy", "speed-up"]
    return Table(header, rows, [False, True, True, True, True, True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker]()))
        return
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in WORKERS}
    for repeat in range(1, args.repeats + 1):
        for name in WORKERS:
            result = _run_worker(name)
            runs[name].append(result)
            accuracy = result.get("test_accuracy")
            shown = f"  test accuracy {accuracy:.4f}" if accuracy is not None else ""
            print(
                f"run {repeat}/{args.repeats}  {name:<16} {result['seconds']:7.1f} s{shown}",
                flush=True,
            )

    from mnist_lib.models import training_threads
    from mnist_lib.recipes import BEST_CNN

    cnn_runs = runs.pop("best CNN")
    document = {
        "settings": {
            "epochs": EPOCHS,
            "batch_size": BATCH_SIZE,
            "seed": SEED,
            "repeats": args.repeats,
        },
        "runs": runs,
        "cnn": {
            "recipe": "best-cnn",
            "epochs_run": CNN_EPOCHS,
            "full_epochs": BEST_CNN.epochs,
            "threads": training_threads("cnn"),
            "train_images": round(TRAIN_IMAGES * (1 - BEST_CNN.validation_size)),
            "runs": cnn_runs,
        },
    }
    result = summary(document)
    print(
        f"\nreference recipe, {EPOCHS} epochs, batch {BATCH_SIZE}, seed {SEED}, "
        f"{args.repeats} run(s) each, medians"
    )
    print(table(document).text())
    print(
        f"\nspeed-up: {result['speedup']:.2f}x (target {SPEEDUP_TARGET:g}x: "
        f"{'met' if result['speedup_met'] else 'missed'})   accuracy difference: "
        f"{result['accuracy_points']:+.2f} points (target within {ACCURACY_TOLERANCE}: "
        f"{'met' if result['accuracy_met'] else 'missed'})"
    )
    print(
        f"best CNN: first epoch {result['cnn_first_epoch_seconds']:.1f} s, later epochs "
        f"{result['cnn_epoch_seconds']:.1f} s ({result['cnn_samples_per_second']:,.0f} images/s)"
    )
    write_results("training", document)


if __name__ == "__main__":
    main()
