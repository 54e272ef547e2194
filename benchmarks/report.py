"""Render the book's benchmark appendix from the measurements in ``benchmarks/results``.

    .venv/bin/python -m benchmarks.report           # rewrite book/appendix_benchmarks.md
    .venv/bin/python -m benchmarks.report --check   # exit 1 if the page is out of date

The page is generated, never edited by hand: ``make benchmarks`` measures and then runs this.
A test checks that the committed page is what the committed results render to.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import book_speed, inference_speed, training_speed
from benchmarks.common import RESULT_FORMAT, RESULTS_DIR, ROOT

PAGE = ROOT / "book" / "appendix_benchmarks.md"
FIGURE = ROOT / "book" / "figures" / "benchmark_times.svg"
BENCHMARKS = {
    "training": "benchmarks.training_speed",
    "inference": "benchmarks.inference_speed",
    "book": "benchmarks.book_speed",
}
MACHINE_FIELDS = {
    "cpu": "processor",
    "logical_cpus": "logical CPUs",
    "usable_cpus": "CPUs usable by the runs",
    "memory_gib": "memory (GiB)",
    "system": "system",
    "python": "Python",
    "tensorflow": "TensorFlow",
    "keras": "Keras",
    "mnist_lib": "mnist_lib",
    "commit": "commit of the book",
    "date": "measured on",
}


class ResultsError(Exception):
    """A result file is missing or unusable: the page cannot be rendered from it."""


def load_results(folder: Path = RESULTS_DIR) -> dict[str, dict[str, Any]]:
    """Every benchmark's result file, checked to be of the format this report reads."""
    documents = {}
    for name, module in BENCHMARKS.items():
        path = folder / f"{name}.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsError(
                f"{path} is missing: run `python -m {module}` (or `make benchmarks`)"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ResultsError(f"{path} cannot be read ({error}); measure it again") from error
        if not isinstance(document, dict) or document.get("format") != RESULT_FORMAT:
            raise ResultsError(
                f"{path} is not a result of format {RESULT_FORMAT}: run `python -m {module}` again"
            )
        documents[name] = document
    return documents


def _met(flag: bool) -> str:
    return "met" if flag else "**missed**"


def _training_section(document: dict[str, Any]) -> str:
    result = training_speed.summary(document)
    settings = document["settings"]
    cnn = document["cnn"]
    lib = result["rows"][training_speed.LIBRARY]
    step_ms = 1000 * lib["seconds"] / (settings["epochs"] * training_speed.STEPS_PER_EPOCH)
    speed_target = (
        f"at least {training_speed.SPEEDUP_TARGET:g} times; {_met(result['speedup_met'])}"
    )
    return f"""\
## Training the reference network

Three runs train the reference network of chapters 3 to 6 with the same recipe and seed:
Adam, sparse categorical cross-entropy, {settings["epochs"]} epochs of mini-batches of
{settings["batch_size"]} on all 60,000 training images, seed {settings["seed"]}, then measure test
accuracy. The first is what a newcomer writes: `model.compile` and `model.fit` with Keras'
defaults. The last is `mnist_lib.train`, which every chapter uses. The middle one is plain `fit`
again, but with TensorFlow limited to one thread per operation as mnist_lib sets it, to show how
much of the difference is threading alone. Each ran {settings["repeats"]} times, each time in a
fresh process; the table gives medians.

{training_speed.table(document).markdown()}

`mnist_lib.train` trains the reference network **{result["speedup"]:.1f} times** as fast as plain
`model.fit` (target: {speed_target}),
and its test accuracy is {result["accuracy_points"]:+.2f} points from plain `fit`'s (target: within
{training_speed.ACCURACY_TOLERANCE} points; {_met(result["accuracy_met"])}). The accuracies differ
at all because the two runs draw their mini-batches in different orders, so they end at different
weights; neither is luckier on purpose. Where the time goes: with batches of 32 and a network this
small, `fit` spends most of each step in Python and in TensorFlow's bookkeeping between steps, not
in arithmetic. mnist_lib compiles the training step with XLA and runs a whole epoch as one call of
a compiled graph, so that one step costs about {step_ms:.2f} ms.

The book's best model, the convolutional network trained on augmented images (chapter 9), is
another matter: most of its time is real arithmetic (2.6 million multiply-adds per image against
the reference network's 0.1 million). mnist_lib trains it with {cnn["threads"]} threads per
operation. Over {cnn["epochs_run"]} epochs of {cnn["train_images"]:,} images in
{len(cnn["runs"])} run(s), its first epoch took {result["cnn_first_epoch_seconds"]:.1f} s (building
the graphs included) and each later one {result["cnn_epoch_seconds"]:.1f} s
({result["cnn_samples_per_second"]:,.0f} images per second, a new random shift and rotation of
every image included), so its {cnn["full_epochs"]} epochs take about
{result["cnn_full_minutes"]:.0f} minutes.
"""


def _inference_section(document: dict[str, Any]) -> str:
    result = inference_speed.summary(document)
    return f"""\
## Predictions

Predictions per second for every trained model of the book, one test image at a time and 1,000 at
a time (medians of {document["settings"]["rounds"]} rounds), first with `model.predict`, then with
`predict_proba`, and how many times as fast that is. `model.predict` is Keras'
general-purpose loop; `predict_proba` is the function the chapters call
(`mnist_lib.evaluate.predict_proba`). It checks its input, then hands each batch to Keras'
`predict_on_batch`, one call of the model's compiled prediction function, without the data
pipeline that `predict` builds anew on every call. The probabilities are the same bit for bit.

{inference_speed.table(document).markdown()}

For one image at a time, `predict_proba` is **{result["speedup_1"]:.0f} times** as fast as
`model.predict` (median over the models): for a network this small, nearly all of `predict`'s time
is the set-up around the arithmetic. For 1,000 images it is {result["speedup_1000"]:.1f} times as
fast; the gap is largest for the dense networks, whose arithmetic is cheapest. The convolutional
networks predict at one thread per operation here, as in the chapters.
"""


def _book_section(document: dict[str, Any]) -> str:
    result = book_speed.summary(document)
    settings = document["settings"]
    site = result["site"]
    cold = (
        "from an empty model cache, once, in reading order, so that each chapter trains the models "
        "it is the first to need (this is what CI pays), and "
        if settings["cold"]
        else ""
    )
    return f"""\
## Building and testing the book

`make site` builds the site from the outputs stored in the notebooks. A clean build starts from an
empty output folder; a rebuild follows it with nothing changed, which Sphinx notices and skips
(medians of {settings["repeats"]} runs each):

{book_speed.site_table(document).markdown()}

A rebuild takes {site["rebuild"]["seconds"]:.1f} s (target: under
{book_speed.REBUILD_TARGET_SECONDS:g} s; {_met(result["rebuild_met"])}).

`make nbval` re-runs every chapter in a fresh kernel and compares each cell's output with the
stored one. Here each chapter ran alone, exactly as `make nbval` runs it: {cold}with every model
in the cache ({settings["repeats"]} runs, median), which is what a maintainer pays after changing a
chapter. Peak memory counts every process of a run together (pytest, the notebook's kernel and, for
the convolutional networks, the training worker), sampled every 50 ms.

{book_speed.nbval_table(document).markdown()}

```{{figure}} figures/benchmark_times.svg
:name: fig-benchmark-times
:width: 100%

Left: the reference network's 10 epochs with plain `model.fit` and with `mnist_lib.train`.
Right: nbval of each chapter, from an empty model cache (the chapter trains the models it is the
first to need) and with every model cached. Medians, from the tables above.
```
"""


def draw_figure(documents: dict[str, dict[str, Any]]) -> str:
    """The figure of the page as SVG text: training times, and nbval time per chapter.

    Written without a date and with a fixed id salt, so the same results give the same file.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    training = training_speed.summary(documents["training"])["rows"]
    nbval = book_speed.summary(documents["book"])["nbval"]
    with plt.rc_context({"svg.hashsalt": "mnist-book", "font.size": 9}):
        figure, (left, right) = plt.subplots(
            1, 2, figsize=(9, 3.6), width_ratios=[1, 1.6], layout="constrained"
        )
        names = list(training)
        seconds = [training[name]["seconds"] for name in names]
        bars = left.barh(names, seconds, color=["#9e9e9e", "#bdbdbd", "#1f77b4"])
        left.bar_label(bars, labels=[f"{s:.0f} s" for s in seconds], padding=3)
        left.invert_yaxis()
        left.set_xlabel("seconds for 10 epochs (median)")
        left.set_title("Training the reference network")
        left.set_xlim(0, max(seconds) * 1.25)
        chapters = [Path(name).name for name in nbval]
        rows = range(len(chapters))
        cold = [nbval[name].get("cold", {}).get("seconds", 0.0) / 60 for name in nbval]
        warm = [nbval[name]["warm"]["seconds"] / 60 for name in nbval]
        right.barh([r - 0.2 for r in rows], cold, height=0.4, label="empty model cache")
        right.barh([r + 0.2 for r in rows], warm, height=0.4, label="models cached")
        right.set_yticks(list(rows), chapters)
        right.invert_yaxis()
        right.set_xlabel("minutes (nbval of the chapter alone)")
        right.set_title("Testing each chapter")
        right.legend(loc="upper right", frameon=False)
        for axes in (left, right):
            axes.spines[["top", "right"]].set_visible(False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(figure)
    return buffer.getvalue()


def _machine_section(documents: dict[str, dict[str, Any]]) -> str:
    machines = {name: document["machine"] for name, document in documents.items()}
    same = all(
        {k: v for k, v in m.items() if k != "date"}
        == {k: v for k, v in machines["training"].items() if k != "date"}
        for m in machines.values()
    )
    names = ["training", "inference", "book"]
    if same:
        header = "| machine | |\n| :--- | :--- |"
        rows = []
        for field, label in MACHINE_FIELDS.items():
            values = sorted({str(machines[name].get(field, "")) for name in names})
            rows.append(f"| {label} | {', '.join(values)} |")
    else:
        header = "| machine | training | inference | book |\n| :--- | :--- | :--- | :--- |"
        rows = [
            f"| {label} | " + " | ".join(str(machines[n].get(field, "")) for n in names) + " |"
            for field, label in MACHINE_FIELDS.items()
        ]
    return "\n".join(
        [
            "## The machine",
            "",
            "Everything above was measured on this machine, with nothing else running:",
            "",
            header,
            *rows,
            "",
        ]
    )


def render(documents: dict[str, dict[str, Any]]) -> str:
    """The whole appendix page, in MyST Markdown."""
    intro = """\
(appendix-benchmarks)=
# Appendix: how fast it runs

How long does the book take to train, to test and to build, and how fast do its models predict?
This page answers with measurements. It is generated: `make benchmarks` runs the scripts in
`benchmarks/` on the machine at hand, stores what they measured in `benchmarks/results/` and
writes this page anew. Every time is the median of several runs, because a shared machine is
noisy, and every figure comes from the machine described at the end of the page: on yours the
numbers will differ, the comparisons much less.
"""
    sections = [
        intro,
        _training_section(documents["training"]),
        _inference_section(documents["inference"]),
        _book_section(documents["book"]),
        _machine_section(documents),
    ]
    return "\n".join(sections)


def write_file(text: str, path: Path) -> None:
    """Replace a file in one rename, so a failed write never leaves half a page."""
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(staging, path)
    finally:
        Path(staging).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the page is up to date")
    args = parser.parse_args()
    try:
        documents = load_results()
    except ResultsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    outputs = {PAGE: render(documents), FIGURE: draw_figure(documents)}
    stale = [
        path
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `python -m benchmarks.report`")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(outputs[path], path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
