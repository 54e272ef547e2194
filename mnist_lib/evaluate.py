"""How good is a model and where does it go wrong: accuracy, loss, confusion matrix, mistakes.

Everything here except :func:`predict_proba` is plain NumPy on arrays of labels and predicted
probabilities, so the book can explain each number with a few lines of code and the tests can check
them against hand computations. No scikit-learn or pandas: the formulas are short enough to show.

Conventions used throughout:

- labels (``y_true``, ``y_pred``) are 1-D integer arrays of digits 0..9;
- ``probs`` is an ``(N, 10)`` array of class probabilities, one row per image (a model's softmax
  output);
- a confusion matrix has one row per *true* digit and one column per *predicted* digit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnist_lib.errors import InputError

NUM_CLASSES = 10
"""Number of classes (the digits 0..9)."""

__all__ = [
    "NUM_CLASSES",
    "ClassScores",
    "Evaluation",
    "Mistake",
    "accuracy",
    "confidence_by_correctness",
    "confusion_matrix",
    "evaluate_predictions",
    "format_history_table",
    "format_scores_table",
    "most_confused_pairs",
    "per_class_scores",
    "predict_proba",
    "rank_mistakes",
    "sparse_categorical_crossentropy",
]


# --------------------------------------------------------------------------------------------------
# Input checks: one clear message per mistake, so a notebook reader knows what to change.
# --------------------------------------------------------------------------------------------------


def _check_labels(labels: Any, name: str = "y_true", num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``labels`` as a 1-D int64 array of digits, checked by :func:`preprocess.check_labels`."""
    from mnist_lib.preprocess import check_labels

    checked = check_labels(labels, name=name, num_classes=num_classes, allow_empty=False)
    return checked.astype(np.int64, copy=False)


def _check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise when two per-image arrays describe different numbers of images."""
    if len(a) != len(b):
        raise InputError(
            f"{name_a} has {len(a)} entries but {name_b} has {len(b)}: they must describe the same "
            "images, in the same order."
        )


def _check_probs(probs: Any, name: str = "probs") -> np.ndarray:
    """Return ``probs`` as a float64 ``(N, 10)`` array of finite, non-negative values, or raise."""
    arr = np.asarray(probs)
    if arr.ndim != 2 or arr.shape[1] != NUM_CLASSES:
        raise InputError(
            f"{name} must have shape (N, {NUM_CLASSES}), one row of class probabilities per "
            f"image; got shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty: there is nothing to evaluate. Pass at least one row.")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{name} must hold numbers; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise InputError(
            f"{name} holds NaN or infinite values (first in row {bad}). The model probably "
            "diverged during training; retrain it with a smaller learning rate."
        )
    if np.any(arr < 0):
        bad = int(np.argwhere(arr < 0)[0, 0])
        raise InputError(
            f"{name} holds negative values (first in row {bad}), so they are not probabilities. "
            "If these are logits, apply a softmax first (or end the model with a softmax layer)."
        )
    return arr


def _check_confusion(confusion: Any) -> np.ndarray:
    """Return ``confusion`` as a square int64 matrix of non-negative counts, or raise."""
    arr = np.asarray(confusion)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise InputError(
            f"A confusion matrix must be square (one row and one column per class); got shape "
            f"{arr.shape}. Build one with confusion_matrix(y_true, y_pred)."
        )
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"A confusion matrix must hold counts; got dtype {arr.dtype}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise InputError(
            "A confusion matrix must hold whole, non-negative counts. "
            "(Use the counts, not a normalized matrix.)"
        )
    return arr.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------------


def predict_proba(model: Any, images: Any, *, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities ``(N, 10)`` float32 for scaled images, computed in batches.

    ``images`` must be scaled floats in [0, 1] (see :func:`mnist_lib.preprocess.check_images`);
    they are passed to the model as ``(batch, 28, 28)``. A Keras model is used through
    ``predict_on_batch``: one call of its compiled prediction function per batch, without the data
    pipeline ``predict`` builds on every call, which costs far more than the arithmetic of these
    small networks (the book's benchmark appendix measures the difference; the probabilities are
    the same bit for bit). Objects with only a ``predict`` method are called ``predict(batch,
    verbose=0)``, anything else ``model(batch, training=False)``. Batching keeps memory bounded
    whatever ``N`` is, and every row of the result comes from exactly one batch, in order.
    """
    from mnist_lib.preprocess import check_images  # lazy: keeps this module importable alone

    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise InputError(f"batch_size must be a positive integer; got {batch_size!r}.")
    if batch_size < 1:
        raise InputError(f"batch_size must be a positive integer; got {batch_size}.")
    x = check_images(images, scaled=True)
    n = len(x)
    if n == 0:
        raise InputError("images is empty: there is nothing to predict. Pass at least one image.")

    predict_on_batch = getattr(model, "predict_on_batch", None)
    predict = getattr(model, "predict", None)
    if callable(predict_on_batch):
        run = predict_on_batch
    elif callable(predict):

        def run(batch: np.ndarray) -> Any:
            return predict(batch, verbose=0)

    elif callable(model):

        def run(batch: np.ndarray) -> Any:
            return model(batch, training=False)

    else:
        raise InputError(
            f"model must have a predict() method or be callable; got {type(model).__name__}."
        )

    from mnist_lib.train import quiet_retracing  # only now: it is where TensorFlow is used

    out = np.empty((n, NUM_CLASSES), dtype=np.float32)
    for start in range(0, n, int(batch_size)):
        batch = x[start : start + batch_size]
        with quiet_retracing():
            result = run(batch)
        if hasattr(result, "numpy"):  # a TensorFlow/Torch tensor from model(x)
            result = result.numpy()
        result = np.asarray(result)
        if result.shape != (len(batch), NUM_CLASSES):
            raise InputError(
                f"The model returned shape {result.shape} for a batch of {len(batch)} images; "
                f"expected ({len(batch)}, {NUM_CLASSES}): one probability per digit. Does the "
                "model end with a Dense(10) softmax layer?"
            )
        out[start : start + len(batch)] = result
    return _check_probs(out, name="model output").astype(np.float32)


# --------------------------------------------------------------------------------------------------
# Summary numbers
# --------------------------------------------------------------------------------------------------


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of images whose predicted digit equals the true digit (0.0 to 1.0)."""
    t = _check_labels(y_true, "y_true")
    p = _check_labels(y_pred, "y_pred")
    _check_same_length(t, p, "y_true", "y_pred")
    return float(np.mean(t == p))


def sparse_categorical_crossentropy(y_true: Any, probs: Any, eps: float = 1e-7) -> float:
    """Mean of ``-log p[true digit]`` over images: the loss the models are trained on.

    Computed like Keras' ``sparse_categorical_crossentropy`` (``from_logits=False``): each row is
    first divided by its sum, then clipped to ``[eps, 1 - eps]`` so that a confident wrong answer
    (p = 0) costs ``-log(eps)`` (about 16.1) instead of infinity. The result therefore matches the
    loss Keras reports for the same predictions.
    """
    t = _check_labels(y_true, "y_true")
    p = _check_probs(probs)
    _check_same_length(t, p, "y_true", "probs")
    if not 0 < eps < 0.5:
        raise InputError(f"eps must be a small positive number (like 1e-7); got {eps}.")
    sums = p.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        bad = int(np.argwhere(sums[:, 0] <= 0)[0, 0])
        raise InputError(f"probs row {bad} is all zeros, so it is not a probability distribution.")
    p_true = np.clip(p[np.arange(len(t)), t] / sums[:, 0], eps, 1.0 - eps)
    return float(np.mean(-np.log(p_true)))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Count matrix ``C`` (int64) where ``C[i, j]`` = images of digit ``i`` predicted as ``j``.

    Rows are true digits, columns predicted digits, so the diagonal holds the correct answers and
    each row sums to the number of images of that digit.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise InputError(f"num_classes must be a positive integer; got {num_classes!r}.")
    if num_classes < 1:
        raise InputError(f"num_classes must be a positive integer; got {num_classes}.")
    k = int(num_classes)
    t = _check_labels(y_true, "y_true", k)
    p = _check_labels(y_pred, "y_pred", k)
    _check_same_length(t, p, "y_true", "y_pred")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one digit, with its support (number of true images)."""

    digit: int
    precision: float
    recall: float
    f1: float
    support: int


def _ratio(num: float, den: float) -> float:
    """``num / den``, or 0.0 when ``den`` is 0 (a class never predicted, or never present)."""
    return float(num / den) if den else 0.0


def per_class_scores(confusion: Any) -> list[ClassScores]:
    """Precision, recall and F1 for every class of a confusion matrix, in class order.

    - precision of digit ``d``: of the images *predicted* as ``d``, the fraction that are ``d``
      (diagonal over column sum);
    - recall: of the images that *are* ``d``, the fraction predicted as ``d`` (diagonal over row
      sum);
    - F1: the harmonic mean of the two, ``2 * P * R / (P + R)``.

    A ratio whose denominator is 0 is reported as 0.0 rather than NaN (the convention of
    scikit-learn's ``zero_division=0``): a digit that is never predicted gets precision 0.0, a digit
    absent from the data gets recall 0.0, and F1 is 0.0 when both are 0.
    """
    c = _check_confusion(confusion)
    diag = np.diag(c)
    col_sums = c.sum(axis=0)
    row_sums = c.sum(axis=1)
    scores = []
    for d in range(c.shape[0]):
        precision = _ratio(diag[d], col_sums[d])
        recall = _ratio(diag[d], row_sums[d])
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores.append(ClassScores(d, precision, recall, f1, int(row_sums[d])))
    return scores


def format_scores_table(scores: Sequence[ClassScores]) -> str:
    """A fixed-width text table of per-class scores plus a macro-average row, for printing.

    The macro average is the plain mean over classes (every digit counts equally, whatever its
    support); its support column is the total number of images.
    """
    scores = list(scores)
    if not scores:
        raise InputError("scores is empty; build it with per_class_scores(confusion).")
    for s in scores:
        if not isinstance(s, ClassScores):
            raise InputError(
                f"scores must hold ClassScores (from per_class_scores); got {type(s).__name__}."
            )
    header = f"{'digit':>7}  {'precision':>9}  {'recall':>6}  {'F1':>5}  {'support':>7}"
    rule = "-" * len(header)
    lines = [header, rule]
    for s in scores:
        lines.append(
            f"{s.digit:>7d}  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:>5.3f}  {s.support:>7d}"
        )
    lines.append(rule)
    mean_p = float(np.mean([s.precision for s in scores]))
    mean_r = float(np.mean([s.recall for s in scores]))
    mean_f1 = float(np.mean([s.f1 for s in scores]))
    total = sum(s.support for s in scores)
    lines.append(f"{'macro':>7}  {mean_p:>9.3f}  {mean_r:>6.3f}  {mean_f1:>5.3f}  {total:>7d}")
    return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything the book reports about one model on one data set (see evaluate_predictions)."""

    accuracy: float
    loss: float
    confusion: np.ndarray
    scores: list[ClassScores]
    predictions: np.ndarray
    probabilities: np.ndarray

    @property
    def error_count(self) -> int:
        """Number of misclassified images (everything off the confusion matrix's diagonal)."""
        return int(self.confusion.sum() - np.trace(self.confusion))


def evaluate_predictions(y_true: Any, probs: Any) -> Evaluation:
    """Accuracy, loss, confusion matrix and per-class scores from true labels and probabilities.

    The predicted digit of each image is the most probable one (``argmax``; on an exact tie, the
    smaller digit).
    """
    t = _check_labels(y_true, "y_true")
    p = _check_probs(probs)
    _check_same_length(t, p, "y_true", "probs")
    predictions = np.argmax(p, axis=1).astype(np.int64)
    confusion = confusion_matrix(t, predictions)
    return Evaluation(
        accuracy=accuracy(t, predictions),
        loss=sparse_categorical_crossentropy(t, p),
        confusion=confusion,
        scores=per_class_scores(confusion),
        predictions=predictions,
        probabilities=np.asarray(probs),
    )


# --------------------------------------------------------------------------------------------------
# Error analysis
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """One misclassified image: what it was, what the model said, and how sure it was."""

    index: int
    true_label: int
    predicted_label: int
    confidence: float
    """Probability the model gave to its (wrong) predicted digit."""
    true_label_probability: float
    """Probability the model gave to the correct digit."""


def rank_mistakes(y_true: Any, probs: Any) -> list[Mistake]:
    """Every misclassified image, most confident wrong answer first.

    Confident mistakes are the interesting ones: they show label noise, odd handwriting, or a model
    that is overconfident. Equal confidences are ordered by image index, so the ranking is
    deterministic.
    """
    t = _check_labels(y_true, "y_true")
    p = _check_probs(probs)
    _check_same_length(t, p, "y_true", "probs")
    predicted = np.argmax(p, axis=1)
    wrong = np.flatnonzero(predicted != t)
    confidence = p[wrong, predicted[wrong]]
    order = wrong[np.lexsort((wrong, -confidence))]
    return [
        Mistake(
            index=int(i),
            true_label=int(t[i]),
            predicted_label=int(predicted[i]),
            confidence=float(p[i, predicted[i]]),
            true_label_probability=float(p[i, t[i]]),
        )
        for i in order
    ]


def most_confused_pairs(confusion: Any, top: int = 10) -> list[tuple[int, int, int]]:
    """The ``top`` most frequent mistakes as ``(true, predicted, count)``, largest count first.

    Only off-diagonal cells with a count above zero are listed; equal counts are ordered by
    ``(true, predicted)``.
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise InputError(f"top must be a positive integer; got {top!r}.")
    c = _check_confusion(confusion)
    pairs = [
        (int(i), int(j), int(c[i, j]))
        for i in range(c.shape[0])
        for j in range(c.shape[1])
        if i != j and c[i, j] > 0
    ]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[: int(top)]


def confidence_by_correctness(y_true: Any, probs: Any) -> tuple[np.ndarray, np.ndarray]:
    """The model's confidence (its highest probability) on its right and on its wrong answers.

    Returns ``(right, wrong)``: two float64 arrays, each in image order, that together hold one
    value per image. A well-calibrated model is less sure when it is wrong; comparing the two
    shows whether it is.
    """
    t = _check_labels(y_true, "y_true")
    p = _check_probs(probs)
    _check_same_length(t, p, "y_true", "probs")
    predicted = np.argmax(p, axis=1)
    confidence = p[np.arange(len(p)), predicted]
    correct = predicted == t
    return confidence[correct], confidence[~correct]


# --------------------------------------------------------------------------------------------------
# Training history
# --------------------------------------------------------------------------------------------------

_HISTORY_ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")


def format_history_table(history: Mapping[str, Sequence[float]] | Any, *, decimals: int = 4) -> str:
    """A fixed-width text table of a training history, one row per epoch, for printing.

    ``history`` maps metric names to one value per epoch (``TrainResult.history`` or Keras'
    ``History.history``; a ``History`` object is accepted too). The columns are ``epoch``, then
    ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy`` when present, then any other metric
    in the history's own order; every value is written with ``decimals`` decimals.
    """
    if not isinstance(history, Mapping) and isinstance(getattr(history, "history", None), Mapping):
        history = history.history
    if not isinstance(history, Mapping) or not history:
        raise InputError(
            "history must be a non-empty dict of per-epoch values, like TrainResult.history; "
            f"got {history!r}."
        )
    if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer):
        raise InputError(f"decimals must be an integer from 0 to 10; got {decimals!r}.")
    if not 0 <= decimals <= 10:
        raise InputError(f"decimals must be an integer from 0 to 10; got {decimals}.")
    names = [name for name in _HISTORY_ORDER if name in history]
    names += [name for name in history if name not in _HISTORY_ORDER]
    columns = {}
    for name in names:
        values = np.asarray(history[name])
        if (
            values.ndim != 1
            or values.dtype == np.bool_
            or not np.issubdtype(values.dtype, np.number)
        ):
            raise InputError(f"history[{name!r}] must be a list of numbers, one per epoch.")
        columns[str(name)] = values.astype(np.float64)
    epochs = {len(values) for values in columns.values()}
    if len(epochs) != 1:
        lengths = ", ".join(f"{name}: {len(values)}" for name, values in columns.items())
        raise InputError(f"every metric needs one value per epoch; got lengths {lengths}.")
    n = epochs.pop()
    if n == 0:
        raise InputError("history holds no epochs: train for at least one epoch.")

    widths = {name: max(len(name), decimals + 3) for name in columns}
    epoch_width = max(len("epoch"), len(str(n)))
    header = "  ".join([f"{'epoch':>{epoch_width}}"] + [f"{k:>{w}}" for k, w in widths.items()])
    lines = [header, "-" * len(header)]
    for i in range(n):
        cells = [f"{columns[k][i]:>{w}.{decimals}f}" for k, w in widths.items()]
        lines.append("  ".join([f"{i + 1:>{epoch_width}d}", *cells]))
    return "\n".join(lines)
