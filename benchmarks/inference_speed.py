"""Inference speed: predictions per second in Python for every model of the book.

For each recipe of :func:`mnist_lib.recipes.book_recipes` (the trained model from the model cache;
a missing one is trained first), two ways of predicting test images, one image at a time and
1,000 at a time:

- ``model.predict``: Keras' general-purpose prediction loop, what a newcomer calls (the baseline);
- ``predict_proba``: :func:`mnist_lib.evaluate.predict_proba`, what the book calls.

Each measurement is the median of 5 rounds; a round repeats the call for at least 0.3 s (and at
least 3 times) after a warm-up call. This process runs TensorFlow as importing mnist_lib sets it
up (one thread per operation), as the book's chapters do.

    .venv/bin/python -m benchmarks.inference_speed

Not a test: it prints and records, it asserts nothing. Results go to
``benchmarks/results/inference.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import median, write_results
from benchmarks.tables import Table

BATCHES = (1, 1000)
ROUNDS = 5
ROUND_SECONDS = 0.3
MIN_CALLS = 3


def rate(predict: Callable[[np.ndarray], Any], images: np.ndarray, batch: int) -> float:
    """Median predictions per second of ``predict`` on consecutive batches of ``batch`` images."""
    batches = [images[start : start + batch] for start in range(0, len(images), batch)]
    predict(batches[0])  # warm-up: the first call traces and compiles
    rates = []
    position = 0
    for _ in range(ROUNDS):
        calls = 0
        started = time.perf_counter()
        while True:
            predict(batches[position % len(batches)])
            position += 1
            calls += 1
            elapsed = time.perf_counter() - started
            if calls >= MIN_CALLS and elapsed >= ROUND_SECONDS:
                break
        rates.append(calls * batch / elapsed)
    return median(rates)


def measure(names: list[str] | None) -> dict[str, Any]:
    """Rates of both ways, at both batch sizes, for each named recipe (all by default)."""
    from mnist_lib.data import load_mnist
    from mnist_lib.evaluate import predict_proba
    from mnist_lib.preprocess import scale_images
    from mnist_lib.recipes import book_recipes
    from mnist_lib.train import trained_model

    images = scale_images(load_mnist().test.images)
    recipes = book_recipes()
    models = {}
    for name in names or list(recipes):
        result = trained_model(recipes[name])
        model = result.model
        ways = {
            "model.predict": lambda batch, model=model: model.predict(batch, verbose=0),
            "predict_proba": lambda batch, model=model: predict_proba(model, batch),
        }
        rates = {
            way: {str(batch): rate(predict, images, batch) for batch in BATCHES}
            for way, predict in ways.items()
        }
        models[name] = {
            "model": recipes[name].model,
            "parameters": int(model.count_params()),
            "rates": rates,
        }
        shown = "  ".join(
            f"{way} b{batch} {values[str(batch)]:9,.0f}/s"
            for way, values in rates.items()
            for batch in BATCHES
        )
        print(f"{name:26} {shown}", flush=True)
    return {"settings": {"batches": list(BATCHES), "rounds": ROUNDS}, "models": models}


# --------------------------------------------------------------------------------------------
# Summaries, shared by the printout and the book's appendix


def table(document: dict[str, Any]) -> Table:
    """One row per model: predictions per second, ``model.predict`` -> ``predict_proba``."""
    rows = []
    for name, entry in document["models"].items():
        cells = [name]
        for batch in ("1", "1000"):
            base = entry["rates"]["model.predict"][batch]
            lib = entry["rates"]["predict_proba"][batch]
            ratio = lib / base
            cells.append(f"{base:,.0f} \u2192 {lib:,.0f} ({ratio:.{0 if ratio >= 10 else 1}f}x)")
        rows.append(cells)
    header = ["model", "one image at a time", "1,000 at a time"]
    return Table(header, rows, [False, True, True])


def summary(document: dict[str, Any]) -> dict[str, float]:
    """Median speed-up of predict_proba over model.predict across models, per batch size."""
    models = document["models"].values()
    return {
        f"speedup_{batch}": median(
            m["rates"]["predict_proba"][batch] / m["rates"]["model.predict"][batch] for m in models
        )
        for batch in ("1", "1000")
    }


def main() -> None:
    from mnist_lib.recipes import book_recipes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", help="only these recipes (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.recipes) - set(book_recipes()))
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; see `python -m mnist_lib recipes`")
    document = measure(args.recipes or None)
    print()
    print(table(document).text())
    result = summary(document)
    print(
        f"\npredict_proba against model.predict, median over models: "
        f"{result['speedup_1']:.0f}x for one image, {result['speedup_1000']:.1f}x for 1,000"
    )
    write_results("inference", document)


if __name__ == "__main__":
    main()
