"""Tests of the evaluation helpers used by the training, results and error-analysis chapters."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from mnist_fixtures import probs_for

from mnist_lib.errors import InputError
from mnist_lib.evaluate import (
    NUM_CLASSES,
    confidence_by_correctness,
    evaluate_predictions,
    format_history_table,
)

HISTORY = {
    "loss": [0.50927, 0.14036, 0.093634],
    "accuracy": [0.88859, 0.96187, 0.97378],
    "val_loss": [0.19196, 0.13791, 0.1065],
    "val_accuracy": [0.9485, 0.96017, 0.96833],
}


# --------------------------------------------------------------------------------------------------
# format_history_table
# --------------------------------------------------------------------------------------------------


def test_history_table_rows_columns_and_rounding():
    lines = format_history_table(HISTORY).splitlines()
    assert lines[0].split() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert set(lines[1]) == {"-"} and len(lines[1]) == len(lines[0])
    assert len(lines) == 2 + 3
    assert lines[2].split() == ["1", "0.5093", "0.8886", "0.1920", "0.9485"]
    assert lines[4].split() == ["3", "0.0936", "0.9738", "0.1065", "0.9683"]
    # fixed width: every row as long as the header, numbers right-aligned under their names
    assert all(len(line) == len(lines[0]) for line in lines)
    assert lines[0].index("val_loss") + len("val_loss") == lines[2].index("0.1920") + 6


def test_history_table_puts_known_metrics_first_and_keeps_others():
    history = {"val_accuracy": [0.9], "lr": [0.001], "loss": [0.3]}
    header = format_history_table(history, decimals=3).splitlines()[0].split()
    assert header == ["epoch", "loss", "val_accuracy", "lr"]
    assert format_history_table(history, decimals=3).splitlines()[2].split() == [
        "1",
        "0.300",
        "0.900",
        "0.001",
    ]


def test_history_table_decimals_and_history_objects():
    table = format_history_table(SimpleNamespace(history={"loss": [0.123456]}), decimals=2)
    assert table.splitlines()[2].split() == ["1", "0.12"]
    assert format_history_table({"loss": [1.5]}, decimals=0).splitlines()[2].split() == ["1", "2"]


def test_history_table_epoch_column_grows_with_many_epochs():
    lines = format_history_table({"loss": [0.1] * 120}).splitlines()
    assert lines[-1].split() == ["120", "0.1000"]
    assert all(len(line) == len(lines[0]) for line in lines)


@pytest.mark.parametrize(
    ("history", "decimals", "message"),
    [
        ({}, 4, "non-empty dict"),
        ([0.1, 0.2], 4, "non-empty dict"),
        ({"loss": [0.1, 0.2], "accuracy": [0.9]}, 4, "one value per epoch"),
        ({"loss": []}, 4, "no epochs"),
        ({"loss": ["a", "b"]}, 4, "list of numbers"),
        ({"loss": [[0.1], [0.2]]}, 4, "list of numbers"),
        ({"loss": [0.1]}, -1, "decimals"),
        ({"loss": [0.1]}, 2.0, "decimals"),
        ({"loss": [0.1]}, True, "decimals"),
    ],
)
def test_history_table_rejects_bad_input(history, decimals, message):
    with pytest.raises(InputError, match=message):
        format_history_table(history, decimals=decimals)


# --------------------------------------------------------------------------------------------------
# confidence_by_correctness
# --------------------------------------------------------------------------------------------------


def test_confidence_split_by_right_and_wrong_answers():
    y_true = np.array([0, 1, 2, 3, 4])
    probs = probs_for([0, 7, 2, 3, 9], [0.91, 0.6, 0.5, 0.99, 0.35])
    right, wrong = confidence_by_correctness(y_true, probs)
    np.testing.assert_allclose(right, [0.91, 0.5, 0.99])  # images 0, 2, 3 in order
    np.testing.assert_allclose(wrong, [0.6, 0.35])  # images 1, 4 in order
    assert right.dtype == np.float64 and wrong.dtype == np.float64


def test_confidence_split_agrees_with_the_evaluation():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(NUM_CLASSES), size=200)
    y_true = rng.integers(0, NUM_CLASSES, size=200)
    right, wrong = confidence_by_correctness(y_true, probs)
    evaluation = evaluate_predictions(y_true, probs)
    assert len(wrong) == evaluation.error_count
    assert len(right) + len(wrong) == 200
    np.testing.assert_allclose(np.sort(np.concatenate([right, wrong])), np.sort(probs.max(axis=1)))


def test_confidence_split_with_no_mistakes_gives_an_empty_wrong_array():
    right, wrong = confidence_by_correctness(np.array([3, 5]), probs_for([3, 5], [0.8, 0.7]))
    assert len(right) == 2 and wrong.shape == (0,)


def test_confidence_split_checks_its_input():
    with pytest.raises(InputError, match="same images"):
        confidence_by_correctness(np.array([1, 2, 3]), probs_for([1, 2], [0.9, 0.9]))
    with pytest.raises(InputError, match="shape"):
        confidence_by_correctness(np.array([1]), np.ones((1, 3)) / 3)
