"""Tests of mnist_lib.evaluate against small examples worked out by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mnist_lib.errors import InputError
from mnist_lib.evaluate import (
    NUM_CLASSES,
    ClassScores,
    Evaluation,
    Mistake,
    accuracy,
    confusion_matrix,
    evaluate_predictions,
    format_scores_table,
    most_confused_pairs,
    per_class_scores,
    predict_proba,
    rank_mistakes,
    sparse_categorical_crossentropy,
)

# A worked example. Digit 3 is present but never predicted (precision 0/0 -> 0.0);
# digits 4..9 are absent and never predicted (everything 0.0).
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 3])
Y_PRED = np.array([0, 0, 1, 1, 1, 2, 1, 2])


def one_hot_probs(predicted: np.ndarray, confidence: float = 0.91) -> np.ndarray:
    """Rows giving ``confidence`` to the predicted digit and the rest spread evenly."""
    rest = (1.0 - confidence) / (NUM_CLASSES - 1)
    probs = np.full((len(predicted), NUM_CLASSES), rest)
    probs[np.arange(len(predicted)), predicted] = confidence
    return probs


# --------------------------------------------------------------------------------------------------
# accuracy, confusion matrix, per-class scores
# --------------------------------------------------------------------------------------------------


def test_accuracy_counts_matches():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 8)
    assert accuracy([3, 3], [3, 3]) == 1.0
    assert isinstance(accuracy(Y_TRUE, Y_PRED), float)


def test_accuracy_accepts_uint8_labels_like_the_loader_gives():
    assert accuracy(Y_TRUE.astype(np.uint8), Y_PRED.astype(np.int64)) == pytest.approx(5 / 8)


def test_confusion_matrix_worked_example():
    expected = np.zeros((10, 10), dtype=np.int64)
    expected[0, 0] = 2
    expected[0, 1] = 1
    expected[1, 1] = 2
    expected[2, 1] = 1
    expected[2, 2] = 1
    expected[3, 2] = 1
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    # Rows are true digits: row sums are the number of images of each digit.
    np.testing.assert_array_equal(cm.sum(axis=1)[:4], [3, 2, 2, 1])


def test_confusion_matrix_rows_are_true_columns_predicted():
    cm = confusion_matrix([4], [9])
    assert cm[4, 9] == 1
    assert cm[9, 4] == 0


def test_confusion_matrix_other_class_count():
    cm = confusion_matrix([0, 1, 2], [0, 2, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 0, 1], [0, 0, 1]])


def test_per_class_scores_worked_example():
    scores = per_class_scores(confusion_matrix(Y_TRUE, Y_PRED))
    assert len(scores) == 10
    assert [s.digit for s in scores] == list(range(10))
    s0, s1, s2, s3 = scores[:4]
    assert (s0.precision, s0.recall, s0.f1, s0.support) == pytest.approx((1.0, 2 / 3, 0.8, 3))
    assert (s1.precision, s1.recall, s1.f1, s1.support) == pytest.approx((0.5, 1.0, 2 / 3, 2))
    assert (s2.precision, s2.recall, s2.f1, s2.support) == pytest.approx((0.5, 0.5, 0.5, 2))
    # Digit 3 is never predicted: precision is 0/0, reported as 0.0 (not NaN).
    assert (s3.precision, s3.recall, s3.f1, s3.support) == (0.0, 0.0, 0.0, 1)
    for absent in scores[4:]:
        assert (absent.precision, absent.recall, absent.f1, absent.support) == (0.0, 0.0, 0.0, 0)


def test_per_class_scores_types_are_plain_python():
    s = per_class_scores(confusion_matrix(Y_TRUE, Y_PRED))[0]
    assert isinstance(s, ClassScores)
    assert type(s.digit) is int and type(s.support) is int
    assert type(s.precision) is float and type(s.f1) is float


def test_format_scores_table_layout_and_values():
    scores = per_class_scores(confusion_matrix(Y_TRUE, Y_PRED))
    table = format_scores_table(scores)
    lines = table.splitlines()
    assert lines[0].split() == ["digit", "precision", "recall", "F1", "support"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["0", "1.000", "0.667", "0.800", "3"]
    assert lines[5].split() == ["3", "0.000", "0.000", "0.000", "1"]
    # Macro average: plain means over the 10 digits; support is the total.
    macro = lines[-1].split()
    assert macro[0] == "macro"
    assert float(macro[1]) == pytest.approx((1 + 0.5 + 0.5) / 10, abs=5e-4)
    assert float(macro[2]) == pytest.approx((2 / 3 + 1 + 0.5) / 10, abs=5e-4)
    assert float(macro[3]) == pytest.approx((0.8 + 2 / 3 + 0.5) / 10, abs=5e-4)
    assert macro[4] == "8"
    assert len(lines) == 2 + 10 + 2
    # Fixed width: every row as long as the header, and the same text every time.
    assert {len(line) for line in lines} == {len(lines[0])}
    assert format_scores_table(scores) == table


def test_format_scores_table_rejects_empty_and_wrong_items():
    with pytest.raises(InputError, match="empty"):
        format_scores_table([])
    with pytest.raises(InputError, match="ClassScores"):
        format_scores_table([(0, 1.0, 1.0, 1.0, 3)])


# --------------------------------------------------------------------------------------------------
# loss and evaluate_predictions
# --------------------------------------------------------------------------------------------------


def test_crossentropy_matches_hand_computation():
    probs = np.zeros((3, 10))
    probs[0, [0, 1]] = [0.5, 0.5]  # true 0: -log 0.5
    probs[1, [1, 2]] = [0.8, 0.2]  # true 1: -log 0.8
    probs[2, [3, 4]] = [0.25, 0.75]  # true 4: -log 0.75
    loss = sparse_categorical_crossentropy([0, 1, 4], probs)
    expected = (-math.log(0.5) - math.log(0.8) - math.log(0.75)) / 3
    assert loss == pytest.approx(expected, rel=1e-6)


def test_crossentropy_clips_zero_probability_like_keras():
    probs = np.zeros((1, 10))
    probs[0, 1] = 1.0  # true digit 0 gets probability 0
    assert sparse_categorical_crossentropy([0], probs) == pytest.approx(-math.log(1e-7))
    assert sparse_categorical_crossentropy([0], probs, eps=1e-3) == pytest.approx(-math.log(1e-3))
    # A certain right answer is clipped to 1 - eps, so the loss is tiny but not 0.
    assert sparse_categorical_crossentropy([1], probs) == pytest.approx(-math.log(1 - 1e-7))


def test_crossentropy_normalizes_rows_like_keras():
    probs = np.zeros((1, 10))
    probs[0, [2, 3]] = [2.0, 6.0]  # sums to 8: p[2] = 0.25 after normalizing
    assert sparse_categorical_crossentropy([2], probs) == pytest.approx(-math.log(0.25))


def test_crossentropy_rejects_all_zero_row_and_bad_eps():
    with pytest.raises(InputError, match="all zeros"):
        sparse_categorical_crossentropy([0], np.zeros((1, 10)))
    with pytest.raises(InputError, match="eps"):
        sparse_categorical_crossentropy([0], one_hot_probs(np.array([0])), eps=0)


def test_evaluate_predictions_bundles_everything():
    probs = one_hot_probs(Y_PRED)
    result = evaluate_predictions(Y_TRUE, probs)
    assert isinstance(result, Evaluation)
    assert result.accuracy == pytest.approx(5 / 8)
    np.testing.assert_array_equal(result.predictions, Y_PRED)
    np.testing.assert_array_equal(result.confusion, confusion_matrix(Y_TRUE, Y_PRED))
    assert result.scores == per_class_scores(result.confusion)
    assert result.loss == pytest.approx((5 * -math.log(0.91) + 3 * -math.log(0.01)) / 8, rel=1e-6)
    assert result.error_count == 3
    np.testing.assert_array_equal(result.probabilities, probs)


def test_evaluate_predictions_argmax_tie_takes_smaller_digit():
    probs = np.zeros((1, 10))
    probs[0, [7, 3]] = 0.5
    assert evaluate_predictions([3], probs).predictions.tolist() == [3]


# --------------------------------------------------------------------------------------------------
# error analysis
# --------------------------------------------------------------------------------------------------


def test_rank_mistakes_orders_by_confidence_then_index():
    y_true = np.array([0, 1, 2, 3, 4, 5])
    probs = np.zeros((6, 10))
    probs[0, 0] = 1.0  # correct: not a mistake
    probs[1, [1, 7]] = [0.2, 0.8]  # wrong, 0.8
    probs[2, [2, 9]] = [0.4, 0.6]  # wrong, 0.6
    probs[3, [3, 8]] = [0.2, 0.8]  # wrong, 0.8: tie with index 1, comes after it
    probs[4, [4, 0]] = [0.9, 0.1]  # correct
    probs[5, [5, 6]] = [0.05, 0.95]  # wrong, 0.95: first
    mistakes = rank_mistakes(y_true, probs)
    assert [m.index for m in mistakes] == [5, 1, 3, 2]
    first = mistakes[0]
    assert first == Mistake(
        index=5, true_label=5, predicted_label=6, confidence=0.95, true_label_probability=0.05
    )
    assert mistakes[1].predicted_label == 7
    assert mistakes[1].true_label_probability == pytest.approx(0.2)
    assert type(first.index) is int and type(first.confidence) is float


def test_rank_mistakes_tie_order_does_not_depend_on_input_position():
    # Five equally confident mistakes: indices ascending, whatever np.argsort would do.
    y_true = np.zeros(5, dtype=int)
    probs = one_hot_probs(np.full(5, 4), confidence=0.7)
    assert [m.index for m in rank_mistakes(y_true, probs)] == [0, 1, 2, 3, 4]


def test_rank_mistakes_empty_when_all_correct():
    assert rank_mistakes(Y_TRUE, one_hot_probs(Y_TRUE)) == []


def test_most_confused_pairs_order_ties_and_top():
    cm = np.diag(np.full(10, 100))
    cm[7, 2] = 5
    cm[2, 7] = 5
    cm[4, 9] = 6
    cm[3, 5] = 1
    assert most_confused_pairs(cm) == [(4, 9, 6), (2, 7, 5), (7, 2, 5), (3, 5, 1)]
    assert most_confused_pairs(cm, top=2) == [(4, 9, 6), (2, 7, 5)]
    assert most_confused_pairs(np.diag(np.ones(10, dtype=int))) == []
    assert all(type(v) is int for v in most_confused_pairs(cm)[0])


# --------------------------------------------------------------------------------------------------
# predict_proba with fake models
# --------------------------------------------------------------------------------------------------


def numbered_images(n: int) -> np.ndarray:
    """Scaled float32 images whose top-left pixel encodes the image's index (index / 255)."""
    images = np.zeros((n, 28, 28), dtype=np.float32)
    images[:, 0, 0] = np.arange(n) / 255
    return images


class FakeKerasModel:
    """Has ``predict``; records every batch; predicts digit ``index % 10`` with 0.91."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.batch_sizes: list[int] = []
        self.kwargs: list[dict] = []

    def predict(self, batch: np.ndarray, **kwargs: object) -> np.ndarray:
        assert batch.shape[1:] == (28, 28) and batch.dtype == np.float32
        indices = np.rint(batch[:, 0, 0] * 255).astype(int)
        self.seen.extend(indices.tolist())
        self.batch_sizes.append(len(batch))
        self.kwargs.append(kwargs)
        return one_hot_probs(indices % 10)


class FakeTensor:
    """Stands in for a framework tensor: only ``.numpy()``."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def numpy(self) -> np.ndarray:
        return self._values


class FakeCallableModel:
    """No ``predict``: called as ``model(x, training=False)``; returns a tensor-like object."""

    def __init__(self) -> None:
        self.training_flags: list[object] = []

    def __call__(self, batch: np.ndarray, training: object = None) -> FakeTensor:
        self.training_flags.append(training)
        indices = np.rint(batch[:, 0, 0] * 255).astype(int)
        return FakeTensor(one_hot_probs(indices % 10).astype(np.float32))


def test_predict_proba_batches_cover_every_row_once_in_order():
    model = FakeKerasModel()
    probs = predict_proba(model, numbered_images(25), batch_size=10)
    assert model.batch_sizes == [10, 10, 5]
    assert model.seen == list(range(25))
    assert all(kw == {"verbose": 0} for kw in model.kwargs)
    assert probs.shape == (25, 10) and probs.dtype == np.float32
    np.testing.assert_array_equal(probs.argmax(axis=1), np.arange(25) % 10)


def test_predict_proba_single_batch_when_batch_is_larger_than_n():
    model = FakeKerasModel()
    predict_proba(model, numbered_images(7))
    assert model.batch_sizes == [7]


def test_predict_proba_accepts_flat_rows():
    model = FakeKerasModel()
    probs = predict_proba(model, numbered_images(4).reshape(4, 784), batch_size=3)
    assert model.seen == [0, 1, 2, 3]
    np.testing.assert_array_equal(probs.argmax(axis=1), [0, 1, 2, 3])


def test_predict_proba_calls_model_with_training_false_when_no_predict():
    model = FakeCallableModel()
    probs = predict_proba(model, numbered_images(12), batch_size=5)
    assert model.training_flags == [False, False, False]
    np.testing.assert_array_equal(probs.argmax(axis=1), np.arange(12) % 10)


class FakeBatchModel(FakeKerasModel):
    """Like a Keras model: ``predict_on_batch`` as well as ``predict``; records which is used."""

    def __init__(self) -> None:
        super().__init__()
        self.predict_calls = 0

    def predict(self, batch: np.ndarray, **kwargs: object) -> np.ndarray:
        self.predict_calls += 1
        return super().predict(batch, **kwargs)

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        return FakeKerasModel.predict(self, batch)


def test_predict_proba_prefers_predict_on_batch():
    model = FakeBatchModel()
    probs = predict_proba(model, numbered_images(25), batch_size=10)
    assert model.predict_calls == 0
    assert model.batch_sizes == [10, 10, 5]
    assert model.seen == list(range(25))
    np.testing.assert_array_equal(probs.argmax(axis=1), np.arange(25) % 10)


def test_predict_proba_of_a_keras_model_equals_keras_predict_bit_for_bit():
    from mnist_lib.models import seed_mlp
    from mnist_lib.train import seed_everything

    seed_everything(0)
    model = seed_mlp()
    images = np.random.default_rng(0).random((2_500, 28, 28), dtype=np.float32)
    probs = predict_proba(model, images, batch_size=1000)  # batches of 1000, 1000 and 500
    expected = model.predict(images, verbose=0)
    assert probs.dtype == np.float32
    np.testing.assert_array_equal(probs, expected)


def test_predict_proba_rejects_raw_pixels_via_check_images():
    raw = np.zeros((3, 28, 28), dtype=np.uint8)
    with pytest.raises(InputError):
        predict_proba(FakeKerasModel(), raw)


# --------------------------------------------------------------------------------------------------
# predict_proba with a real Keras model and every kind of wrong input
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def untrained_mlp():
    """The reference network, untrained: real Keras, and built in well under a second."""
    from mnist_lib.models import seed_mlp

    return seed_mlp()


SCALED = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)


def _with_value(value: float, image: int = 2) -> np.ndarray:
    images = SCALED.copy()
    images[image, 5, 7] = value
    return images


def _objects() -> np.ndarray:
    images = np.empty((3, 28, 28), dtype=object)
    images[...] = 0.5
    return images


# Each wrong input, and what the message must say: the problem, then the fix.
WRONG_IMAGES = {
    "one image, no batch axis": (
        SCALED[0],
        r"\(N, 28, 28\) or \(N, 784\); got \(28, 28\) \(a single image\? add a batch axis: "
        r"images\[None\]\)",
    ),
    "one flat image": (SCALED[0].reshape(784), r"got \(784,\) \(a single image\? add a batch axis"),
    "rows of 28": (
        SCALED[:, 0, :],
        r"got \(3, 28\)\. Reshape to \(N, 28, 28\) images or \(N, 784\)",
    ),
    "rows of 785": (np.zeros((3, 785), np.float32), r"got \(3, 785\) \(.*a label column\?"),
    "three colour channels": (
        np.repeat(SCALED[..., None], 3, axis=-1),
        r"got \(3, 28, 28, 3\) \(3 channels: MNIST images are grayscale.*convert them to one",
    ),
    "a channel axis": (SCALED[..., None], r"\(a channel axis\? drop it: images\[\.\.\., 0\]\)"),
    "uint8 raw pixels": (
        (SCALED * 255).astype(np.uint8),
        r"floats in \[0, 1\]; got uint8 \(not scaled yet\? call scale_images first\)",
    ),
    "float64 raw pixels": (
        SCALED.astype(np.float64) * 255,
        r"lie in \[0, 1\]; got values from 0\.\d+ to 25\d\.\d+ \(raw pixels\? call "
        r"scale_images .*or divide by 255\)",
    ),
    "negative values": (
        SCALED - 0.5,
        r"got values from -0\.\d+ to 0\.\d+ \(standardized or centred\? .*scale_images",
    ),
    "NaN": (_with_value(np.nan), r"NaN or infinite values \(the first in image 2\).*check how"),
    "infinity": (_with_value(np.inf, 1), r"NaN or infinite values \(the first in image 1\)"),
    "strings": (
        np.full((3, 28, 28), "0.5"),
        r"floats in \[0, 1\]; got <U3 \(text or Python objects; .*np\.asarray\(images, dtype",
    ),
    "objects": (_objects(), r"got object \(text or Python objects; build a numeric array"),
    "booleans": (SCALED > 0.5, r"got bool \(a mask\? convert it"),
    "empty batch": (np.zeros((0, 28, 28), np.float32), "an empty batch; give at least one image"),
    "empty list": ([], "images is empty; give at least one image"),
    "ragged list": ([[0.5] * 784, [0.5] * 783], "cannot be read as an array"),
}


@pytest.mark.parametrize("case", list(WRONG_IMAGES))
def test_predict_proba_names_each_wrong_input_and_its_fix(case: str, untrained_mlp) -> None:
    images, expected = WRONG_IMAGES[case]
    with pytest.raises(InputError) as info:
        predict_proba(untrained_mlp, images)
    assert re.search(expected, str(info.value)), str(info.value)
    assert str(info.value).startswith("images ")  # names the argument first


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 784)])
def test_predict_proba_takes_nested_lists_of_valid_numbers(shape, untrained_mlp) -> None:
    images = SCALED.reshape(shape)
    from_list = predict_proba(untrained_mlp, images.tolist())
    np.testing.assert_array_equal(from_list, predict_proba(untrained_mlp, images))
    assert from_list.shape == (3, 10)
    np.testing.assert_allclose(from_list.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_predict_proba_rejects_bad_batch_size(batch_size):
    with pytest.raises(InputError, match="batch_size"):
        predict_proba(FakeKerasModel(), numbered_images(3), batch_size=batch_size)


def test_predict_proba_rejects_wrong_output_shape_and_logits():
    class FlatModel:
        def predict(self, batch, verbose=0):
            return np.full((len(batch), 9), 1 / 9)

    class LogitModel:
        def predict(self, batch, verbose=0):
            return np.full((len(batch), 10), -2.0)

    with pytest.raises(InputError, match=r"\(3, 10\)"):
        predict_proba(FlatModel(), numbered_images(3))
    with pytest.raises(InputError, match="softmax"):
        predict_proba(LogitModel(), numbered_images(3))
    with pytest.raises(InputError, match="predict"):
        predict_proba(object(), numbered_images(3))


# --------------------------------------------------------------------------------------------------
# every input check
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.eye(10, dtype=int)[[1, 2]], "one-hot"),
        (np.array([[1], [2]]), "1-D"),
        (np.array([], dtype=int), "empty"),
        (np.array([1.0, 2.0]), "integers"),
        (np.array([True, False]), "integers"),
        (np.array([0, 10]), "0..9"),
        (np.array([-1, 3]), "0..9"),
    ],
)
def test_bad_labels_raise(labels, match):
    with pytest.raises(InputError, match=match):
        accuracy(labels, labels)
    with pytest.raises(InputError, match=match):
        confusion_matrix(labels, labels)
    with pytest.raises(InputError, match=match):
        rank_mistakes(labels, np.full((max(len(labels), 1), 10), 0.1))


def test_length_mismatch_raises():
    with pytest.raises(InputError, match="same images"):
        accuracy([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="same images"):
        confusion_matrix([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="same images"):
        evaluate_predictions([1, 2, 3], one_hot_probs(np.array([1, 2])))
    with pytest.raises(InputError, match="same images"):
        sparse_categorical_crossentropy([1], one_hot_probs(np.array([1, 2])))


def test_bad_num_classes_and_labels_beyond_it_raise():
    with pytest.raises(InputError, match="num_classes"):
        confusion_matrix([0], [0], num_classes=0)
    with pytest.raises(InputError, match=r"0\.\.2"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.full((2, 9), 0.1), r"\(N, 10\)"),
        (np.full(10, 0.1), r"\(N, 10\)"),
        (np.zeros((0, 10)), "empty"),
        (np.array([[np.nan] + [0.1] * 9, [0.1] * 10]), "NaN"),
        (np.array([[np.inf] + [0.1] * 9, [0.1] * 10]), "NaN or infinite"),
        (np.array([[0.1] * 10, [-0.1] + [0.1] * 9]), "negative.*row 1"),
        (np.array([["a"] * 10, ["b"] * 10]), "numbers"),
    ],
)
def test_bad_probs_raise(probs, match):
    y = np.zeros(len(probs) if probs.ndim == 2 and len(probs) else 1, dtype=int)
    for function in (evaluate_predictions, rank_mistakes, sparse_categorical_crossentropy):
        with pytest.raises(InputError, match=match):
            function(y, probs)


@pytest.mark.parametrize(
    ("confusion", "match"),
    [
        (np.zeros((3, 4), dtype=int), "square"),
        (np.zeros(10, dtype=int), "square"),
        (np.zeros((0, 0), dtype=int), "square"),
        (-np.eye(3, dtype=int), "non-negative"),
        (np.eye(3) * 0.5, "whole"),
        (np.full((2, 2), np.nan), "whole"),
    ],
)
def test_bad_confusion_raises(confusion, match):
    with pytest.raises(InputError, match=match):
        per_class_scores(confusion)
    with pytest.raises(InputError, match=match):
        most_confused_pairs(confusion)


@pytest.mark.parametrize("top", [0, -1, 1.5, True])
def test_bad_top_raises(top):
    with pytest.raises(InputError, match="top"):
        most_confused_pairs(np.eye(10, dtype=int), top=top)


def test_error_messages_name_the_argument_and_a_fix():
    with pytest.raises(InputError) as info:
        accuracy([0, 1], np.array([0.0, 1.0]))
    message = str(info.value)
    assert "y_pred" in message and "astype(np.uint8)" in message
    # InputError is also a ValueError, so generic handlers keep working.
    assert isinstance(info.value, ValueError)
