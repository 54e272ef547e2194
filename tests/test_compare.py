"""Tests of model comparison: summaries, summary tables and error overlaps (mnist_lib.compare),
and the nbval pattern that hides training times in the stored notebooks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mnist_fixtures import REAL_MNIST
from nbval.plugin import get_sanitize_patterns

import mnist_lib.compare as compare_module
from mnist_lib.compare import (
    ErrorOverlap,
    ModelSummary,
    compare_errors,
    format_summary_table,
    summarize,
    train_and_summarize,
)
from mnist_lib.data import MnistData, Split, load_mnist
from mnist_lib.errors import InputError
from mnist_lib.evaluate import sparse_categorical_crossentropy
from mnist_lib.preprocess import scale_images
from mnist_lib.train import TrainConfig, TrainResult, train

pytestmark = pytest.mark.usefixtures("real_data_env")  # tests/real_data_fixtures.py

SANITIZE_CFG = Path(__file__).resolve().parents[1] / "book" / "nbval-sanitize.cfg"
TINY = TrainConfig(epochs=1, validation_size=0.1, seed=0)


@pytest.fixture(scope="module")
def small_data() -> MnistData:
    """600 training and 300 test images of the real data."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_OFFLINE", "1")
        data = load_mnist(REAL_MNIST)
    return MnistData(
        Split(data.train.images[:600], data.train.labels[:600]),
        Split(data.test.images[:300], data.test.labels[:300]),
    )


@pytest.fixture(scope="module")
def trained(small_data: MnistData) -> TrainResult:
    """One epoch on 540 images: right often enough, wrong often enough."""
    return train(TINY, small_data)


def make_summary(name: str = "seed", *, error_indices: Any = (), n_test: int = 20, **changes: Any):
    """A hand-built ModelSummary; ``changes`` override any field."""
    fields: dict[str, Any] = {
        "name": name,
        "config": TrainConfig(),
        "parameters": 111_146,
        "train_seconds": 14.0,
        "epochs_run": 10,
        "best_epoch": 10,
        "val_accuracy": 0.9712,
        "test_accuracy": 0.9705,
        "test_loss": 0.1,
        "test_errors": len(error_indices),
        "test_predictions": np.zeros(n_test, dtype=np.int64),
        "error_indices": np.asarray(error_indices, dtype=np.int64),
    }
    fields.update(changes)
    return ModelSummary(**fields)


def cells(line: str) -> list[str]:
    """The cells of a table line: columns are separated by at least two spaces."""
    return re.split(r" {2,}", line.strip())


# ------------------------------------------------------------------------------------------
# summarize


def test_summary_counts_the_wrong_predictions(trained: TrainResult, small_data: MnistData) -> None:
    summary = summarize("tiny", trained, small_data)
    labels = small_data.test.labels
    probabilities = np.asarray(trained.model(scale_images(small_data.test.images), training=False))
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != labels
    assert 0 < wrong.sum() < len(labels)  # the checks below see both kinds
    np.testing.assert_array_equal(summary.test_predictions, predicted)
    assert summary.test_errors == int(wrong.sum())
    np.testing.assert_array_equal(summary.error_indices, np.flatnonzero(wrong))
    assert summary.test_accuracy == pytest.approx(1 - wrong.sum() / len(labels))
    assert summary.test_loss == pytest.approx(
        sparse_categorical_crossentropy(labels, probabilities), rel=1e-5
    )


def test_summary_describes_the_run(trained: TrainResult, small_data: MnistData) -> None:
    summary = summarize("tiny", trained, small_data)
    assert summary.name == "tiny"
    assert summary.config == TINY
    assert summary.parameters == 111_146
    assert summary.train_seconds == trained.train_seconds
    assert (summary.epochs_run, summary.best_epoch) == (1, 1)
    assert summary.val_accuracy == trained.history["val_accuracy"][0]


def test_summary_takes_validation_accuracy_at_the_best_epoch(
    trained: TrainResult, small_data: MnistData
) -> None:
    history = {
        "loss": [1.0, 0.8, 0.6, 0.5, 0.4],
        "accuracy": [0.5, 0.6, 0.7, 0.8, 0.9],
        "val_loss": [0.9, 0.5, 0.4, 0.6, 0.7],
        "val_accuracy": [0.61, 0.72, 0.83, 0.84, 0.85],
    }
    config = TINY.replace(epochs=8, early_stopping_patience=2)
    result = TrainResult(trained.model, config, history, 3.0)
    summary = summarize("stopped", result, small_data)
    assert (summary.epochs_run, summary.best_epoch) == (5, 3)
    assert summary.val_accuracy == 0.83  # not the last epoch's 0.85


def test_summary_without_validation(trained: TrainResult, small_data: MnistData) -> None:
    history = {"loss": [1.0, 0.8], "accuracy": [0.5, 0.6]}
    result = TrainResult(trained.model, TINY.replace(validation_size=0, epochs=2), history, 1.0)
    summary = summarize("no val", result, small_data)
    assert summary.val_accuracy is None
    assert (summary.epochs_run, summary.best_epoch) == (2, 2)


# ------------------------------------------------------------------------------------------
# train_and_summarize


def test_train_and_summarize_rejects_an_empty_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_module, "load_mnist", _refuse)
    with pytest.raises(InputError, match="runs"):
        train_and_summarize({})


@pytest.mark.parametrize("bad", [{"epochs": 1}, "seed_mlp", None, TrainConfig().to_dict()])
def test_train_and_summarize_rejects_a_non_config_before_training(
    monkeypatch: pytest.MonkeyPatch, bad: object
) -> None:
    monkeypatch.setattr(compare_module, "trained_model", _refuse)
    monkeypatch.setattr(compare_module, "load_mnist", _refuse)
    with pytest.raises(InputError, match=r"'second'.*TrainConfig"):
        train_and_summarize({"first": TrainConfig(), "second": bad})


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("nothing may be trained or loaded for a bad request")


def test_train_and_summarize_summarises_every_run_in_order(
    monkeypatch: pytest.MonkeyPatch, trained: TrainResult, small_data: MnistData
) -> None:
    calls: list[tuple[TrainConfig, object, object]] = []

    def fake_trained_model(
        config: TrainConfig, data: object = None, *, progress: object = None
    ) -> TrainResult:
        calls.append((config, data, progress))
        return TrainResult(trained.model, config, dict(trained.history), 2.5)

    monkeypatch.setattr(compare_module, "trained_model", fake_trained_model)
    announced: list[str] = []
    runs = {"b first": TINY.replace(seed=1), "a second": TINY.replace(seed=2)}
    summaries = train_and_summarize(runs, small_data, progress=print, announce=announced.append)
    assert announced == ["b first", "a second"]
    assert [c[0] for c in calls] == list(runs.values())
    assert all(c[1] is small_data and c[2] is print for c in calls)
    assert [s.name for s in summaries] == ["b first", "a second"]
    assert [s.config for s in summaries] == list(runs.values())
    assert all(s.train_seconds == 2.5 for s in summaries)
    direct = summarize("x", trained, small_data)
    for summary in summaries:
        np.testing.assert_array_equal(summary.error_indices, direct.error_indices)


# ------------------------------------------------------------------------------------------
# format_summary_table


def test_table_has_a_header_and_one_line_per_model() -> None:
    summaries = [
        make_summary("seed MLP", error_indices=range(295)),
        make_summary(
            "CNN",
            parameters=225_034,
            train_seconds=365.0,
            epochs_run=12,
            best_epoch=9,
            val_accuracy=0.99,
            test_accuracy=0.9912,
            error_indices=range(88),
        ),
    ]
    lines = format_summary_table(summaries).splitlines()
    assert len(lines) == 3
    assert cells(lines[0]) == [
        "model",
        "params",
        "epochs",
        "train time",
        "val acc",
        "test acc",
        "errors",
    ]
    assert cells(lines[1]) == ["seed MLP", "111,146", "10", "14 s", "97.12%", "97.05%", "295"]
    assert cells(lines[2]) == ["CNN", "225,034", "9/12", "6 min 05 s", "99.00%", "99.12%", "88"]
    # Names are left-aligned, numbers right-aligned: every line is as wide as the others.
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("seed MLP") and lines[2].startswith("CNN ")


@pytest.mark.parametrize(
    "show_time, show_validation, header",
    [
        (True, True, ["model", "params", "epochs", "train time", "val acc", "test acc", "errors"]),
        (False, True, ["model", "params", "epochs", "val acc", "test acc", "errors"]),
        (True, False, ["model", "params", "epochs", "train time", "test acc", "errors"]),
        (False, False, ["model", "params", "epochs", "test acc", "errors"]),
    ],
)
def test_table_columns_follow_the_options(
    show_time: bool, show_validation: bool, header: list[str]
) -> None:
    summary = make_summary("m", train_seconds=42.0, val_accuracy=0.5, error_indices=range(3))
    table = format_summary_table([summary], show_time=show_time, show_validation=show_validation)
    first, row = table.splitlines()
    assert cells(first) == header
    assert len(cells(row)) == len(header)
    assert ("42 s" in row) == show_time
    assert ("50.00%" in row) == show_validation
    assert cells(row)[-2:] == ["97.05%", "3"]


@pytest.mark.parametrize(
    "best, run, shown",
    [(10, 10, "10"), (1, 1, "1"), (7, 9, "7/9"), (1, 4, "1/4")],
)
def test_epochs_read_best_over_run_only_when_an_earlier_epoch_was_kept(
    best: int, run: int, shown: str
) -> None:
    table = format_summary_table([make_summary(best_epoch=best, epochs_run=run)])
    assert cells(table.splitlines()[1])[2] == shown


def test_missing_validation_accuracy_is_a_dash() -> None:
    table = format_summary_table([make_summary(val_accuracy=None)], show_time=False)
    assert cells(table.splitlines()[1]) == ["seed", "111,146", "10", "-", "97.05%", "0"]


@pytest.mark.parametrize(
    "seconds, shown",
    [(0.4, "0 s"), (14.0, "14 s"), (59.4, "59 s"), (65.0, "1 min 05 s"), (365.2, "6 min 05 s")],
)
def test_training_time_format(seconds: float, shown: str) -> None:
    table = format_summary_table([make_summary(train_seconds=seconds)])
    assert cells(table.splitlines()[1])[3] == shown


def test_empty_table_raises() -> None:
    with pytest.raises(InputError, match="summaries"):
        format_summary_table([])


# ------------------------------------------------------------------------------------------
# compare_errors


def test_compare_errors_splits_fixed_kept_and_new() -> None:
    before = make_summary("before", error_indices=[1, 3, 5, 7], n_test=10)
    after = make_summary("after", error_indices=[3, 4, 7, 9], n_test=10)
    overlap = compare_errors(before, after)
    assert isinstance(overlap, ErrorOverlap)
    assert overlap.fixed.tolist() == [1, 5]
    assert overlap.kept.tolist() == [3, 7]
    assert overlap.new.tolist() == [4, 9]
    for part in (overlap.fixed, overlap.kept, overlap.new):
        assert part.dtype == np.int64
    reverse = compare_errors(after, before)
    assert (reverse.fixed.tolist(), reverse.new.tolist()) == ([4, 9], [1, 5])


def test_compare_errors_with_itself_and_with_a_perfect_model() -> None:
    model = make_summary(error_indices=[0, 2], n_test=5)
    same = compare_errors(model, model)
    assert (same.fixed.tolist(), same.kept.tolist(), same.new.tolist()) == ([], [0, 2], [])
    perfect = make_summary(error_indices=[], n_test=5)
    assert compare_errors(model, perfect).fixed.tolist() == [0, 2]
    assert compare_errors(perfect, model).new.tolist() == [0, 2]
    assert compare_errors(perfect, model).kept.size == 0


def test_compare_errors_rejects_different_test_sets() -> None:
    with pytest.raises(InputError, match="same test set"):
        compare_errors(make_summary(n_test=10), make_summary(n_test=11))


def test_compare_errors_of_real_summaries(trained: TrainResult, small_data: MnistData) -> None:
    first = summarize("first", trained, small_data)
    # A made-up second model that gets everything right but the first 10 test images.
    predictions = small_data.test.labels.astype(np.int64).copy()
    predictions[:10] = (predictions[:10] + 1) % 10
    second = make_summary(
        "second", error_indices=np.arange(10), test_predictions=predictions, n_test=300
    )
    overlap = compare_errors(first, second)
    errors = set(first.error_indices.tolist())
    assert set(overlap.kept.tolist()) == errors & set(range(10))
    assert set(overlap.fixed.tolist()) == errors - set(range(10))
    assert set(overlap.new.tolist()) == set(range(10)) - errors
    assert len(overlap.fixed) + len(overlap.kept) == first.test_errors


# ------------------------------------------------------------------------------------------
# The nbval pattern for training times


def sanitize(text: str) -> str:
    """Apply every pattern of book/nbval-sanitize.cfg, as nbval does."""
    patterns = dict(get_sanitize_patterns(SANITIZE_CFG.read_text(encoding="utf-8")))
    assert patterns, "no patterns found in nbval-sanitize.cfg"
    for regex, replace in patterns.items():
        text = re.sub(regex, replace, text)
    return text


def timed_table(seconds: tuple[float, float], **options: Any) -> str:
    summaries = [
        make_summary("seed MLP", train_seconds=seconds[0], error_indices=range(295)),
        make_summary(
            "CNN",
            parameters=225_034,
            train_seconds=seconds[1],
            epochs_run=12,
            best_epoch=9,
            val_accuracy=0.99,
            test_accuracy=0.9912,
            error_indices=range(88),
        ),
    ]
    return format_summary_table(summaries, show_time=True, **options)


def test_sanitize_config_has_the_training_times_pattern() -> None:
    text = SANITIZE_CFG.read_text(encoding="utf-8")
    assert "[training times]" in text
    assert len(get_sanitize_patterns(text)) >= 2


@pytest.mark.parametrize("show_validation", [True, False])
@pytest.mark.parametrize(
    "times",
    [(14.0, 65.0), (65.0, 365.0), (3.0, 599.0), (59.4, 14.0), (0.2, 120.0)],
)
def test_tables_differing_only_in_times_sanitize_equal(
    times: tuple[float, float], show_validation: bool
) -> None:
    reference = timed_table((14.0, 365.0), show_validation=show_validation)
    other = timed_table(times, show_validation=show_validation)
    assert other != reference
    assert sanitize(other) == sanitize(reference)
    # Only the times are hidden: the rest of the table is still there.
    sanitized = sanitize(reference).splitlines()
    assert "train time" in sanitized[0]
    assert "111,146" in sanitized[1] and "295" in sanitized[1]
    assert "9/12" in sanitized[2] and "99.12%" in sanitized[2]
    assert "14 s" not in sanitized[1] and "6 min 05 s" not in sanitized[2]


def test_times_before_a_missing_validation_accuracy_are_hidden_too() -> None:
    def table(seconds: float) -> str:
        return format_summary_table([make_summary(train_seconds=seconds, val_accuracy=None)])

    assert table(14.0) != table(65.0)
    assert sanitize(table(14.0)) == sanitize(table(65.0))
    row = sanitize(table(14.0)).splitlines()[1]
    assert "TIME" in row
    assert cells(row)[-3:] == ["-", "97.05%", "0"]


def test_times_of_ten_minutes_or_more_sanitize_equal_too() -> None:
    assert sanitize(timed_table((14.0, 725.0))) == sanitize(timed_table((14.0, 365.0)))


@pytest.mark.parametrize(
    "changes",
    [
        {"test_accuracy": 0.9706},
        {"val_accuracy": 0.9713},
        {"error_indices": range(296)},
        {"best_epoch": 8, "epochs_run": 10},
        {"parameters": 111_147},
        {"name": "seed MLQ"},
    ],
)
def test_tables_differing_in_results_stay_different(changes: dict) -> None:
    base = {"name": "seed MLP", "train_seconds": 14.0, "error_indices": range(295)}
    first = format_summary_table([make_summary(**base)])
    changed = format_summary_table([make_summary(**{**base, **changes})])
    assert sanitize(first) != sanitize(changed)
    # ... also when their times differ as well.
    slower = format_summary_table([make_summary(**{**base, **changes, "train_seconds": 65.0})])
    assert sanitize(first) != sanitize(slower)


def test_tables_without_times_are_left_alone() -> None:
    table = format_summary_table([make_summary(error_indices=range(12))], show_time=False)
    assert sanitize(table) == table
