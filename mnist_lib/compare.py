"""Comparing trained models: one summary row per model, tables of them, and which errors differ.

The chapters after the reference model each train several variants and ask what changed. Every
variant is described by a :class:`~mnist_lib.train.TrainConfig`, trained once (or taken from the
trained-model cache) and summarised by the same numbers: parameters, training time, epochs,
validation and test accuracy, test errors. Comparing two models' errors image by image tells which
mistakes a change fixes and which it keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mnist_lib.data import MnistData, load_mnist
from mnist_lib.errors import InputError
from mnist_lib.evaluate import evaluate_predictions, predict_proba
from mnist_lib.preprocess import scale_images
from mnist_lib.train import ProgressCallback, TrainConfig, TrainResult, trained_model

__all__ = [
    "ErrorOverlap",
    "ModelSummary",
    "compare_errors",
    "format_duration",
    "format_summary_table",
    "summarize",
    "train_and_summarize",
]


@dataclass(frozen=True)
class ModelSummary:
    """The numbers by which the book compares its models, for one trained model."""

    name: str
    """A short label for tables and charts, e.g. ``"CNN"`` or ``"tanh + Adam"``."""
    config: TrainConfig
    parameters: int
    train_seconds: float
    """Wall time of the training run that produced the model (measured when it was trained)."""
    epochs_run: int
    best_epoch: int
    val_accuracy: float | None
    """Validation accuracy at the epoch whose weights the model keeps; None without validation."""
    test_accuracy: float
    test_loss: float
    test_errors: int
    test_predictions: np.ndarray
    """The predicted digit of every test image, in test-set order."""
    error_indices: np.ndarray
    """Positions in the test set of the images this model gets wrong."""


def summarize(name: str, result: TrainResult, data: MnistData) -> ModelSummary:
    """Evaluate ``result``'s model on ``data.test`` and collect its :class:`ModelSummary`."""
    test_labels = np.asarray(data.test.labels)
    probabilities = predict_proba(result.model, scale_images(data.test.images))
    evaluation = evaluate_predictions(test_labels, probabilities)
    val = result.history.get("val_accuracy")
    summary = ModelSummary(
        name=name,
        config=result.config,
        parameters=int(result.model.count_params()),
        train_seconds=float(result.train_seconds),
        epochs_run=result.epochs_run,
        best_epoch=result.best_epoch,
        val_accuracy=float(val[result.best_epoch - 1]) if val else None,
        test_accuracy=evaluation.accuracy,
        test_loss=evaluation.loss,
        test_errors=evaluation.error_count,
        test_predictions=evaluation.predictions,
        error_indices=np.flatnonzero(evaluation.predictions != test_labels),
    )
    return summary


def train_and_summarize(
    runs: Mapping[str, TrainConfig],
    data: MnistData | None = None,
    *,
    progress: ProgressCallback | None = None,
    announce: Callable[[str], object] | None = None,
) -> list[ModelSummary]:
    """Train (or take from the cache) every named configuration and summarise each, in order.

    ``announce``, if given, is called with each name before its model is trained or loaded,
    e.g. ``print`` to follow a long grid.
    """
    if not runs:
        raise InputError("runs must name at least one training configuration")
    for name, config in runs.items():
        if not isinstance(config, TrainConfig):
            raise InputError(f"run {name!r} must be a TrainConfig; got {type(config).__name__}")
    data = data if data is not None else load_mnist()
    summaries = []
    for name, config in runs.items():
        if announce is not None:
            announce(name)
        result = trained_model(config, data, progress=progress)
        summaries.append(summarize(name, result, data))
    return summaries


def format_summary_table(
    summaries: Sequence[ModelSummary], *, show_time: bool = True, show_validation: bool = True
) -> str:
    """A plain-text table, one row per model: parameters, epochs, (time), accuracies, errors.

    Training times differ from machine to machine and run to run; ``show_time=False`` leaves
    them out where a table must print the same everywhere.
    """
    if not summaries:
        raise InputError("summaries must hold at least one ModelSummary")
    header = ["model", "params", "epochs"]
    if show_time:
        header.append("train time")
    if show_validation:
        header.append("val acc")
    header += ["test acc", "errors"]
    rows = [header]
    for s in summaries:
        epochs = (
            f"{s.best_epoch}/{s.epochs_run}" if s.best_epoch != s.epochs_run else str(s.epochs_run)
        )
        row = [s.name, f"{s.parameters:,}", epochs]
        if show_time:
            row.append(format_duration(s.train_seconds))
        if show_validation:
            row.append(f"{s.val_accuracy:.2%}" if s.val_accuracy is not None else "-")
        row += [f"{s.test_accuracy:.2%}", str(s.test_errors)]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    if show_time:  # wide enough for "59 min 59 s": the header stays put whatever the times
        widths[3] = max(widths[3], len(format_duration(3599)))
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """``"14 s"`` or ``"6 min 05 s"``: precise enough for training times."""
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest:02d} s"


@dataclass(frozen=True)
class ErrorOverlap:
    """How two models' test-set errors overlap, as test-set positions."""

    fixed: np.ndarray
    """Wrong for the first model, right for the second."""
    kept: np.ndarray
    """Wrong for both."""
    new: np.ndarray
    """Right for the first model, wrong for the second."""


def compare_errors(before: ModelSummary, after: ModelSummary) -> ErrorOverlap:
    """Which of ``before``'s test errors ``after`` fixes, which it keeps, which it adds."""
    if len(before.test_predictions) != len(after.test_predictions):
        raise InputError("both summaries must come from the same test set")
    a = set(before.error_indices.tolist())
    b = set(after.error_indices.tolist())
    return ErrorOverlap(
        fixed=np.array(sorted(a - b), dtype=np.int64),
        kept=np.array(sorted(a & b), dtype=np.int64),
        new=np.array(sorted(b - a), dtype=np.int64),
    )
