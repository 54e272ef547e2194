"""The book's figures: digits, data summaries, training curves and error analysis.

Every function returns a :class:`matplotlib.figure.Figure` built directly (not through pyplot), so
that a notebook shows it exactly once when it is the cell's last expression, nothing piles up in
pyplot's list of open figures, and no global Matplotlib state is changed. Save one with
``fig.savefig("name.png")``.

Figures are sized for a book page (7.5 inches wide at most) with text of 9 points or more and
constrained layout, so labels are never clipped. Digits are drawn with ``cmap="gray_r"``
everywhere: background white, ink black, as on paper. Pixel values may be raw (integers 0..255)
or scaled (floats 0..1); the grey scale is chosen from the data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import Formatter, MaxNLocator

from mnist_lib.errors import InputError
from mnist_lib.evaluate import (
    NUM_CLASSES,
    ClassScores,
    Mistake,
    _check_confusion,
    _check_labels,
    _check_probs,
    confidence_by_correctness,
)

__all__ = [
    "CONFIDENCE_BINS",
    "DIGIT_CMAP",
    "plot_activations",
    "plot_class_distribution",
    "plot_class_error_rates",
    "plot_confidence_histogram",
    "plot_confused_pairs",
    "plot_confusion_matrix",
    "plot_data_split",
    "plot_digit",
    "plot_digit_grid",
    "plot_flattening",
    "plot_log_loss",
    "plot_mean_digits",
    "plot_mistake_probabilities",
    "plot_mistakes",
    "plot_pair_mistakes",
    "plot_pixel_histogram",
    "plot_probabilities",
    "plot_scaling",
    "plot_training_curves",
]

DIGIT_CMAP = "gray_r"
"""Colour map of every digit image: 0 is white paper, the maximum is black ink."""

PAGE_WIDTH = 7.5
"""Width in inches of a full-width figure; the book shows it at about its natural size."""

IMAGE_SIDE = 28
TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#ff7f0e"

# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _numeric_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a non-empty, finite, numeric array, or an InputError saying what is wrong."""
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{name} must hold numbers (pixel values); got dtype {arr.dtype}.")
    if arr.size == 0:
        raise InputError(f"{name} is empty: there is nothing to plot.")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} holds NaN or infinite values; pixel values must be finite.")
    if arr.min() < 0:
        raise InputError(
            f"{name} holds negative values (minimum {arr.min()}); pixel values run from 0 up "
            "(0..255 raw, or 0..1 scaled). Plot the images before standardizing them."
        )
    return arr


def _as_image(image: Any, name: str = "image") -> np.ndarray:
    """One digit as a 28 x 28 array; a flat 784-vector is reshaped."""
    arr = _numeric_array(image, name)
    if arr.shape == (IMAGE_SIDE * IMAGE_SIDE,) or arr.shape == (1, IMAGE_SIDE, IMAGE_SIDE):
        arr = arr.reshape(IMAGE_SIDE, IMAGE_SIDE)
    if arr.shape != (IMAGE_SIDE, IMAGE_SIDE):
        raise InputError(
            f"{name} must be one 28 x 28 digit (or a flat vector of 784 pixels); got shape "
            f"{arr.shape}. To plot the first image of a batch, pass images[0]."
        )
    return arr


def _as_images(images: Any, name: str = "images") -> np.ndarray:
    """A batch of digits as an (N, 28, 28) array; (N, 784) rows are reshaped."""
    arr = _numeric_array(images, name)
    if arr.ndim == 2 and arr.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        arr = arr.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if arr.ndim != 3 or arr.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise InputError(
            f"{name} must have shape (N, 28, 28) or (N, 784); got {arr.shape}. "
            "For a single digit use plot_digit(image)."
        )
    return arr


def _pixel_max(arr: np.ndarray) -> float:
    """Top of the grey scale: 255 for raw pixels (integers, or above 1), 1.0 for scaled floats."""
    if np.issubdtype(arr.dtype, np.integer) or float(arr.max()) > 1.0:
        return 255.0
    return 1.0


def _root_figure(ax: Axes) -> Figure:
    """The top-level Figure an Axes belongs to (also when it sits in a SubFigure)."""
    try:
        return ax.get_figure(root=True)  # Matplotlib >= 3.10
    except TypeError:  # pragma: no cover - older Matplotlib
        fig = ax.figure
        return getattr(fig, "figure", fig)


def _message_figure(title: str, message: str) -> Figure:
    """A small figure that says there is nothing to draw (e.g. a model without mistakes)."""
    fig = Figure(figsize=(PAGE_WIDTH, 1.6), layout="constrained")
    ax = fig.subplots()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def _hide_frame(ax: Axes) -> None:
    """Remove ticks and frame around a digit in a gallery, keeping the axis labels usable."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


# --------------------------------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------------------------------


def _pixel_text(value: float, scaled: bool) -> str:
    """Short text for one pixel: ``"255"`` for raw values, ``".50"`` / ``"1"`` for scaled ones."""
    if not scaled:
        return f"{value:.0f}"
    if value >= 1.0:
        return "1"
    if value < 0.005:
        return "<.01"  # not ".00": the pixel is not zero, only very faint
    return f"{value:.2f}".lstrip("0")


def plot_digit(
    image: Any,
    label: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    show_pixel_values: bool = False,
) -> Figure:
    """Draw one 28 x 28 digit, with its pixel grid coordinates on the axes.

    With ``show_pixel_values=True`` every non-zero pixel is written in its cell (blank cells are
    0), which shows that an image is just a grid of numbers; the figure is then page-wide so the
    numbers stay legible. Raw pixels are written as integers, scaled pixels with two decimals
    (``.50``). Pass ``ax`` to draw into an existing Axes; its figure is returned.
    """
    img = _as_image(image)
    vmax = _pixel_max(img)
    own_figure = ax is None
    if ax is None:
        side = PAGE_WIDTH if show_pixel_values else 3.6
        fig = Figure(figsize=(side, side), layout="constrained")
        ax = fig.subplots()
    else:
        fig = _root_figure(ax)
    ax.imshow(img, cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
    if title is None:
        title = f"Label: {label}" if label is not None else "A 28 × 28 digit image"  # noqa: RUF001
    ax.set_title(title)
    ticks = [0, 7, 14, 21, 27]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("pixel column")
    ax.set_ylabel("pixel row")

    if show_pixel_values:
        scaled = vmax == 1.0
        # Fit three digits into one cell, with a gap. Our own figure loses about 0.8 inch to the
        # labels; for a caller's Axes its current position is the best estimate before layout.
        if own_figure:
            width_in = fig.get_figwidth() - 0.8
        else:
            width_in = ax.get_position().width * fig.get_figwidth()
        fontsize = min(9.0, max(4.0, width_in * 72 / IMAGE_SIDE / 2.3))
        for row, col in zip(*np.nonzero(img), strict=True):
            value = float(img[row, col])
            text = _pixel_text(value, scaled)
            ax.text(
                col,
                row,
                text,
                ha="center",
                va="center",
                fontsize=fontsize if len(text) <= 3 else 0.8 * fontsize,
                color="white" if value > 0.5 * vmax else "black",
            )
    return fig


def plot_digit_grid(images: Any, labels: Any, *, per_class: int = 10, seed: int = 0) -> Figure:
    """A gallery with one row per digit 0..9 and ``per_class`` random examples of each.

    Seeing many hands at once shows how varied the writing is. The examples are drawn without
    replacement by a generator seeded with ``seed``, so the figure is reproducible. A digit with
    fewer examples than ``per_class`` shows what there is.
    """
    imgs = _as_images(images)
    labs = _check_labels(labels, "labels")
    if len(imgs) != len(labs):
        raise InputError(
            f"images has {len(imgs)} entries but labels has {len(labs)}; they must match."
        )
    if isinstance(per_class, bool) or not isinstance(per_class, int | np.integer) or per_class < 1:
        raise InputError(f"per_class must be a positive integer; got {per_class!r}.")
    per_class = int(per_class)
    rng = np.random.default_rng(seed)
    vmax = _pixel_max(imgs)

    cell = min((PAGE_WIDTH - 0.5) / per_class, 0.8)  # inches per digit; few columns stay small
    width = max(cell * per_class + 0.5, 4.0)  # room for the title even with few columns
    fig = Figure(figsize=(width, cell * NUM_CLASSES + 0.5), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    axes = fig.subplots(NUM_CLASSES, per_class, squeeze=False)
    for digit in range(NUM_CLASSES):
        candidates = np.flatnonzero(labs == digit)
        chosen = rng.choice(candidates, size=min(per_class, len(candidates)), replace=False)
        for col in range(per_class):
            ax = axes[digit, col]
            _hide_frame(ax)
            if col < len(chosen):
                ax.imshow(
                    imgs[chosen[col]], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest"
                )
            elif col == 0:
                ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        axes[digit, 0].set_ylabel(str(digit), rotation=0, fontsize=13, labelpad=10, va="center")
    fig.suptitle(f"{per_class} random examples of each digit", fontsize=12)
    return fig


# --------------------------------------------------------------------------------------------------
# Data summaries
# --------------------------------------------------------------------------------------------------


def plot_class_distribution(train_labels: Any, test_labels: Any) -> Figure:
    """Grouped bars: how many images of each digit the training and test sets hold.

    Checking balance first matters: if one digit were rare, plain accuracy could hide how badly it
    is recognized. (In MNIST each digit is 9-11 % of either set.) Counts are written on the bars.
    """
    train = _check_labels(train_labels, "train_labels")
    test = _check_labels(test_labels, "test_labels")
    digits = np.arange(NUM_CLASSES)
    fig = Figure(figsize=(PAGE_WIDTH, 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.4
    for offset, labs, name, color in (
        (-width / 2, train, "training set", TRAIN_COLOR),
        (width / 2, test, "test set", TEST_COLOR),
    ):
        counts = np.bincount(labs, minlength=NUM_CLASSES)
        bars = ax.bar(
            digits + offset, counts, width, color=color, label=f"{name} ({len(labs):,} images)"
        )
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=9, rotation=90, padding=3)
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    ax.set_title("Images of each digit in the training and test sets")
    tallest = max(np.bincount(train).max(), np.bincount(test).max())
    ax.set_ylim(0, 1.28 * tallest)  # room for the rotated counts and the legend
    ax.legend(loc="upper left", ncols=2, frameon=False)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    return fig


def plot_pixel_histogram(images: Any, *, title: str | None = None) -> Figure:
    """Histogram of all pixel values, with a logarithmic count axis.

    Most MNIST pixels are exactly 0 (background) and many are near the maximum (ink); the log
    axis keeps the few in-between values (the anti-aliased edges of strokes) visible. Raw images
    get one bin per value 0..255; scaled ones 256 equal bins over [0, 1], one per original value.
    """
    arr = _numeric_array(images, "images")
    values = arr.ravel()
    vmax = _pixel_max(arr)
    if np.issubdtype(arr.dtype, np.integer):
        if int(values.max()) > 255:
            raise InputError(f"images holds values up to {values.max()}; pixels run from 0 to 255.")
        counts = np.bincount(values.astype(np.intp), minlength=256)
        edges = np.arange(257, dtype=float) - 0.5  # one bin centred on each value
    else:
        counts, edges = np.histogram(values, bins=256, range=(0.0, vmax))
    zero_share = float(np.mean(values == 0))

    fig = Figure(figsize=(PAGE_WIDTH, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.set_yscale("log")
    # One filled step outline (not 256 bars: much faster to draw). On a log axis the fill needs a
    # positive floor; put it just under the smallest non-zero count.
    floor = 0.5 * float(counts[counts > 0].min())
    ax.stairs(counts, edges, fill=True, baseline=floor, color="0.25")
    ax.set_ylim(bottom=floor)
    ax.set_xlim(edges[0] - 0.01 * vmax, edges[-1] + 0.01 * vmax)
    ax.set_title(title or "How often each pixel value occurs")
    top = "255" if vmax == 255.0 else "1.0"
    bottom = "0" if vmax == 255.0 else "0.0"
    ax.set_xlabel(f"pixel value ({bottom} = background, {top} = darkest ink)")
    ax.set_ylabel("number of pixels (log scale)")
    ax.text(
        0.5,
        0.95,
        f"{zero_share:.0%} of the {values.size:,} pixels are exactly {bottom}",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=10,
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7"},
    )
    return fig


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------


def _history_series(history: Mapping[str, Any], key: str, n: int | None) -> np.ndarray:
    """One curve of a history as a 1-D float array (of length ``n`` when given), or raise."""
    arr = np.asarray(history[key])
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or arr.ndim != 1:
        raise InputError(f'history["{key}"] must be a list of numbers, one per epoch.')
    if arr.size == 0:
        raise InputError(f'history["{key}"] is empty: train for at least one epoch.')
    if n is not None and arr.size != n:
        raise InputError(
            f'history["{key}"] has {arr.size} values but history["loss"] has {n}; every curve '
            "needs one value per epoch."
        )
    return arr.astype(float)


class _PercentTicks(Formatter):
    """Fractions as percentages with as few decimals as the ticks need (``96%``, ``97.5%``)."""

    def __init__(self) -> None:
        self._decimals: int | None = None

    @staticmethod
    def _decimals_for(values: Sequence[float]) -> int:
        """Fewest decimals (up to 3) that write every value exactly, all ticks alike."""
        percents = [100 * float(v) for v in values]
        for decimals in range(3):
            if all(abs(p - round(p, decimals)) < 1e-6 for p in percents):
                return decimals
        return 3

    def set_locs(self, locs: Sequence[float]) -> None:
        """Called by Matplotlib with all tick positions before they are formatted."""
        self._decimals = self._decimals_for(locs) if len(locs) else None

    def __call__(self, x: float, pos: int | None = None) -> str:
        decimals = self._decimals if self._decimals is not None else self._decimals_for([x])
        return f"{100 * float(x):.{decimals}f}%"


def plot_training_curves(history: Mapping[str, Sequence[float]]) -> Figure:
    """Loss and accuracy per epoch: training solid, validation dashed.

    ``history`` is Keras' ``History.history`` dict (a ``History`` object is accepted too). It
    must hold ``"loss"``; ``"accuracy"``, ``"val_loss"`` and ``"val_accuracy"`` are drawn when
    present, and without ``"accuracy"`` only the loss panel is drawn. A widening gap between the
    two curves is the sign of overfitting the book discusses.
    """
    if not isinstance(history, Mapping) and isinstance(getattr(history, "history", None), Mapping):
        history = history.history
    if not isinstance(history, Mapping):
        raise InputError(
            f"history must be a dict of per-epoch values (Keras' History.history); got "
            f"{type(history).__name__}."
        )
    if "loss" not in history:
        raise InputError(
            f'history has no "loss" entry (keys: {sorted(history)}); pass the .history dict '
            "returned by model.fit()."
        )
    loss = _history_series(history, "loss", None)
    n = loss.size
    epochs = np.arange(1, n + 1)
    panels = [("loss", "Loss (cross-entropy)", "loss")]
    if "accuracy" in history:
        panels.append(("accuracy", "Accuracy", "accuracy"))

    fig = Figure(figsize=(PAGE_WIDTH, 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    marker = "o" if n <= 30 else None
    for ax, (key, title, ylabel) in zip(axes, panels, strict=True):
        values = loss if key == "loss" else _history_series(history, key, n)
        ax.plot(epochs, values, "-", marker=marker, ms=4, color=TRAIN_COLOR, label="training")
        if f"val_{key}" in history:
            val = _history_series(history, f"val_{key}", n)
            ax.plot(epochs, val, "--", marker=marker, ms=4, color=TEST_COLOR, label="validation")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        if n <= 12:
            ax.set_xticks(epochs)  # every epoch labelled; also right for a single epoch
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, n + 0.5)
        ax.grid(alpha=0.3)
        ax.legend()
        if key == "accuracy":
            ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))  # no 0.25 % steps
            ax.yaxis.set_major_formatter(_PercentTicks())
    return fig


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def plot_confusion_matrix(
    confusion: Any, *, normalize: bool = False, log_colors: bool = True
) -> Figure:
    """Heatmap of a confusion matrix with the value of every cell written in it.

    Rows are true digits, columns predicted digits, so correct answers sit on the diagonal. With
    ``normalize=True`` each row is divided by its total and shown in percent: the diagonal is then
    each digit's recall, which compares digits fairly whatever their counts. Zero cells are
    written in light grey.

    The colours follow a logarithmic scale by default: on a linear one a good model's mistakes
    (tens of images beside diagonals of a thousand) would all look equally white. Pass
    ``log_colors=False`` for a linear scale. The numbers in the cells are exact either way.
    """
    counts = _check_confusion(confusion)
    k = counts.shape[0]
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(
            100.0 * counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0
        )
        texts = [[_percent_text(v) for v in row] for row in values]
        bar_label = "% of the images of the true digit"
        title = "Confusion matrix (each row in % of the true digit)"
    else:
        values = counts.astype(float)
        texts = [[str(int(v)) for v in row] for row in counts]
        bar_label = "number of images"
        title = "Confusion matrix (number of images)"

    fig = Figure(figsize=(PAGE_WIDTH, 6.4), layout="constrained")
    ax = fig.subplots()
    top = 100.0 if normalize else max(float(values.max()), 1.0)
    if log_colors:
        # Linear below one image (or 0.1 %), logarithmic above, so 0 stays white.
        norm = SymLogNorm(linthresh=0.1 if normalize else 1.0, vmin=0.0, vmax=top, base=10)
        bar_label += " (log scale)"
    else:
        norm = Normalize(vmin=0.0, vmax=top)
    image = ax.imshow(values, cmap="Blues", norm=norm)
    fontsize = 10 if k <= 10 else max(5, int(100 / k))
    for i in range(k):
        for j in range(k):
            if counts[i, j] == 0:
                color = "0.6"
            else:  # white text on dark cells, black on light ones (perceived luminance)
                red, green, blue, _ = image.cmap(norm(values[i, j]))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                color = "white" if dark else "black"
            ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=fontsize, color=color)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("Predicted digit")
    ax.set_ylabel("True digit")
    ax.set_title(title)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.85)
    colorbar.set_label(bar_label)
    if log_colors:
        ticks = [0.0] + [10.0**e for e in range(-1 if normalize else 0, 5) if 10.0**e <= top]
        colorbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    return fig


def _percent_text(value: float) -> str:
    """A cell's percentage to one decimal; ``"0"`` and ``"100"`` only when exact."""
    if value == 0:
        return "0"
    if value == 100:
        return "100"
    if value < 0.05:
        return "<0.1"  # not "0.0": some images are there
    if value >= 99.95:
        return ">99.9"  # not "100.0": some images are elsewhere
    return f"{value:.1f}"


def _confidence_text(confidence: float) -> str:
    """A probability as a whole percentage, never rounded up to a misleading 100 %."""
    if confidence < 1.0 and round(confidence * 100) >= 100:
        return ">99%"
    return f"{confidence:.0%}"


def plot_mistakes(
    images: Any, mistakes: Sequence[Mistake], *, columns: int = 8, limit: int = 24
) -> Figure:
    """A gallery of misclassified digits, each titled with the true and predicted digit.

    Pass the list from :func:`mnist_lib.evaluate.rank_mistakes` (most confident mistakes first)
    and the images it was computed on; ``mistake.index`` selects the image. The percentage under
    each title is the probability the model gave to its wrong answer. At most ``limit`` mistakes
    are drawn, ``columns`` per row.
    """
    imgs = _as_images(images)
    for name, value in (("columns", columns), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InputError(f"{name} must be a positive integer; got {value!r}.")
    shown = list(mistakes)[: int(limit)]
    for m in shown:
        if not all(hasattr(m, a) for a in ("index", "true_label", "predicted_label", "confidence")):
            raise InputError(
                f"mistakes must hold Mistake records (from rank_mistakes); got {type(m).__name__}."
            )
        if not 0 <= int(m.index) < len(imgs):
            raise InputError(
                f"A mistake refers to image {m.index} but images holds {len(imgs)}; pass the "
                "same images the mistakes were ranked on."
            )
    if not shown:
        return _message_figure(
            "Misclassified digits", "No mistakes: every image was classified correctly."
        )

    vmax = _pixel_max(imgs)
    cols = min(int(columns), len(shown))
    rows = math.ceil(len(shown) / cols)
    cell = min(PAGE_WIDTH / cols, 1.25)
    # "true 4 → pred 9" needs about 80 points at 9 pt; in narrower cells it goes on two lines.
    one_line = cell * 72 >= 88
    title_lines = 2 if one_line else 3
    width = max(cell * cols, 4.6)  # room for the two-line heading even with few mistakes
    fig = Figure(figsize=(width, rows * (cell + 0.17 * title_lines) + 0.8))
    fig.set_layout_engine("constrained", w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, m in zip(axes.flat, shown, strict=False):
        ax.set_axis_on()
        _hide_frame(ax)
        ax.imshow(imgs[int(m.index)], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        gap = " " if one_line else "\n"
        ax.set_title(
            f"true {m.true_label}{gap}→ pred {m.predicted_label}\n{_confidence_text(m.confidence)}",
            fontsize=9,
            linespacing=1.15,
        )
    fig.suptitle(
        "Misclassified digits, most confident mistakes first\n"
        "(% = the model's confidence in its wrong answer)",
        fontsize=11,
    )
    return fig


def plot_confused_pairs(pairs: Sequence[tuple[int, int, int]]) -> Figure:
    """Horizontal bars of the most frequent mistakes, labelled ``true → predicted``.

    Pass the list from :func:`mnist_lib.evaluate.most_confused_pairs`; the first pair (the most
    frequent) is drawn at the top.
    """
    rows = []
    for pair in pairs:
        try:
            true, pred, count = (int(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(
                f"pairs must hold (true, predicted, count) triples of integers; got {pair!r}."
            ) from None
        if count < 0:
            raise InputError(f"A pair's count cannot be negative; got {pair!r}.")
        rows.append((true, pred, count))
    if not rows:
        return _message_figure("Most frequent mistakes", "No mistakes: nothing was confused.")

    fig = Figure(figsize=(PAGE_WIDTH, 1.3 + 0.32 * len(rows)), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(rows))
    counts = [c for _, _, c in rows]
    bars = ax.barh(positions, counts, color=TRAIN_COLOR)
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.set_yticks(positions, [f"{t} → {p}" for t, p, _ in rows])
    ax.invert_yaxis()
    ax.margins(x=0.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of images")
    ax.set_ylabel("true → predicted digit")
    ax.set_title("Most frequent mistakes")
    return fig


# --------------------------------------------------------------------------------------------------
# Evaluation: per-class error rates, confidence, single mistakes
# --------------------------------------------------------------------------------------------------


def _probability_text(name: str, probability: float) -> str:
    """``p(3) = 41%`` to whole percents; ``p(3) < 1%`` and ``p(3) > 99%`` rather than 0 or 100 %."""
    if 0 < probability < 0.005:
        return f"{name} < 1%"
    if 0.995 <= probability < 1:
        return f"{name} > 99%"
    return f"{name} = {probability:.0%}"


def _share_text(percent: float) -> str:
    """A share in percent to one decimal; ``"<0.1%"`` for a small share that is not zero."""
    if 0 < percent < 0.05:
        return "<0.1%"
    return f"{percent:.1f}%"


def plot_class_error_rates(scores: Sequence[ClassScores]) -> Figure:
    """Bars of each digit's two error rates, read from its precision and recall.

    ``missed`` is ``1 - recall``: the share of the digit's images given another label.
    ``wrongly predicted`` is ``1 - precision``: the share of the model's answers "this digit"
    that were wrong. Pass the list from :func:`mnist_lib.evaluate.per_class_scores`.
    """
    scores = list(scores)
    if not scores or not all(isinstance(s, ClassScores) for s in scores):
        raise InputError("scores must be a non-empty list of ClassScores (from per_class_scores).")
    digits = np.array([s.digit for s in scores])
    missed = np.array([100 * (1 - s.recall) for s in scores])
    false = np.array([100 * (1 - s.precision) for s in scores])
    positions = np.arange(len(scores))

    fig = Figure(figsize=(PAGE_WIDTH, 3.8), layout="constrained")
    ax = fig.subplots()
    width = 0.4
    series = (
        (-width / 2, missed, "missed: its images given another label", "recall", TRAIN_COLOR),
        (width / 2, false, "false alarms: wrong answers “this digit”", "precision", TEST_COLOR),
    )
    for offset, values, name, score, color in series:
        label = f"{name} (1 \N{MINUS SIGN} {score})"
        bars = ax.bar(positions + offset, values, width, color=color, label=label)
        texts = [_share_text(v) for v in values]
        ax.bar_label(bars, labels=texts, fontsize=8, padding=2, rotation=90)
    ax.set_xticks(positions, [str(d) for d in digits])
    ax.set_xlabel("digit")
    ax.set_ylabel("% of images")
    ax.set_title("How often each digit goes wrong")
    top = max(float(missed.max()), float(false.max()), 0.1)
    ax.set_ylim(0, 1.45 * top)  # room for the labels and the legend
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:g}%")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig


CONFIDENCE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
"""Bin edges of :func:`plot_confidence_histogram`: finer near 1, where most answers lie."""


def _bin_label(low: float, high: float) -> str:
    if low == 0.0:
        return f"below {high:.0%}"
    if high == 1.0:
        return f"{low:.0%} or more"
    return f"{100 * low:.0f}–{high:.0%}"  # noqa: RUF001


def plot_confidence_histogram(y_true: Any, probs: Any) -> Figure:
    """How sure the model is on its right answers and on its wrong ones, side by side.

    The confidence of an answer is the model's highest probability (the one it answers with).
    Each group is counted in the bins of :data:`CONFIDENCE_BINS` and shown as a share of that
    group, so the few wrong answers compare fairly with the many right ones.
    """
    right, wrong = confidence_by_correctness(y_true, probs)
    edges = np.array(CONFIDENCE_BINS)
    labels = [_bin_label(lo, hi) for lo, hi in pairwise(CONFIDENCE_BINS)]
    positions = np.arange(len(labels))

    fig = Figure(figsize=(PAGE_WIDTH, 4.0), layout="constrained")
    ax = fig.subplots()
    width = 0.4
    top = 0.0
    for offset, values, name, color in (
        (-width / 2, right, "right answers", TRAIN_COLOR),
        (width / 2, wrong, "wrong answers", TEST_COLOR),
    ):
        counts, _ = np.histogram(values, bins=edges)
        shares = 100 * counts / max(len(values), 1)
        top = max(top, float(shares.max()))
        bars = ax.bar(
            positions + offset, shares, width, color=color, label=f"{name} ({len(values):,} images)"
        )
        texts = [_share_text(s) if c else "" for s, c in zip(shares, counts, strict=True)]
        ax.bar_label(bars, labels=texts, fontsize=8, padding=2)
    ax.set_xticks(positions, labels, fontsize=9)
    ax.set_xlabel("the model's confidence in its answer (its highest probability)")
    ax.set_ylabel("% of the answers in the group")
    ax.set_title("How sure the model is when it is right and when it is wrong")
    ax.set_ylim(0, max(1.15 * top, 1.0))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:g}%")
    ax.legend(loc="upper left", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_mistake_probabilities(
    images: Any, probs: Any, mistakes: Sequence[Mistake], *, columns: int = 4
) -> Figure:
    """A few misclassified digits, each above a bar chart of the ten probabilities it was given.

    The bar of the true digit is blue, the bar of the predicted (wrong) digit orange. This tells a
    hesitant mistake (two tall bars) from a confident one (one bar near 100 %). Pass the images and
    probabilities the mistakes were ranked on, and a short list of mistakes (at most 12).
    """
    imgs = _as_images(images)
    p = _check_probs(probs)
    if len(p) != len(imgs):
        raise InputError(f"images has {len(imgs)} entries but probs has {len(p)}; they must match.")
    if isinstance(columns, bool) or not isinstance(columns, int | np.integer) or columns < 1:
        raise InputError(f"columns must be a positive integer; got {columns!r}.")
    shown = list(mistakes)
    if len(shown) > 12:
        raise InputError(f"pass at most 12 mistakes (got {len(shown)}); plot_mistakes shows more.")
    for m in shown:
        if not isinstance(m, Mistake):
            raise InputError(f"mistakes must hold Mistake records; got {type(m).__name__}.")
        if not 0 <= m.index < len(imgs):
            raise InputError(f"A mistake refers to image {m.index} but images holds {len(imgs)}.")
    if not shown:
        return _message_figure("Mistakes in detail", "No mistakes to show.")

    vmax = _pixel_max(imgs)
    cols = min(int(columns), len(shown))
    rows = math.ceil(len(shown) / cols)
    cell = PAGE_WIDTH / max(cols, 3)
    height = rows * (cell * 1.45 + 0.5) + (rows - 1) * 0.2 + 0.7
    # whole hundredths of an inch: a whole number of pixels at 100 dpi, in the figure's repr too
    fig = Figure(figsize=(round(max(cell * cols, 4.6), 2), round(height, 2)))
    fig.set_layout_engine("constrained", w_pad=0.04, h_pad=0.04, wspace=0.08, hspace=0.04)
    # image, bars, and an empty spacer row that keeps one mistake's labels off the next one
    grid = fig.add_gridspec(3 * rows - 1, cols, height_ratios=([1.0, 0.7, 0.12] * rows)[:-1])
    digits = np.arange(NUM_CLASSES)
    for k, m in enumerate(shown):
        row, col = divmod(k, cols)
        ax_img = fig.add_subplot(grid[3 * row, col])
        _hide_frame(ax_img)
        ax_img.imshow(imgs[m.index], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        ax_img.set_title(
            f"test image {m.index}\ntrue {m.true_label} → pred {m.predicted_label}",
            fontsize=9,
            linespacing=1.15,
        )
        ax_bar = fig.add_subplot(grid[3 * row + 1, col])
        colors = ["0.7"] * NUM_CLASSES
        colors[m.true_label] = TRAIN_COLOR
        colors[m.predicted_label] = TEST_COLOR
        ax_bar.bar(digits, p[m.index], color=colors, width=0.8)
        ax_bar.set_xticks(digits, [str(d) for d in digits], fontsize=8)
        for digit, color in ((m.true_label, TRAIN_COLOR), (m.predicted_label, TEST_COLOR)):
            tick = ax_bar.get_xticklabels()[digit]
            tick.set_color(color)
            tick.set_fontweight("bold")
        ax_bar.set_ylim(0, 1.0)
        ax_bar.set_yticks([0, 0.5, 1.0], ["0", "50%", "100%"], fontsize=8)
        ax_bar.tick_params(length=2, pad=1)
        ax_bar.set_xlabel(
            f"{_probability_text(f'p({m.true_label})', float(p[m.index, m.true_label]))}, "
            f"{_probability_text(f'p({m.predicted_label})', float(p[m.index, m.predicted_label]))}",
            fontsize=8,
        )
    fig.suptitle(
        "Mistakes in detail: the probability the model gave each digit\n"
        "(blue: the true digit, orange: the model's answer)",
        fontsize=11,
    )
    return fig


# --------------------------------------------------------------------------------------------------
# Chapters 1-3: the data, preprocessing and the model
# --------------------------------------------------------------------------------------------------

VALIDATION_COLOR = "#2ca02c"
HIGHLIGHT_COLOR = "#d62728"


def plot_mean_digits(images: Any, labels: Any) -> Figure:
    """The average image of each digit 0..9 (pixel by pixel), on one shared grey scale.

    Averaging thousands of hands blurs away individual style and leaves the typical shape: where
    ink usually is (dark), where it sometimes is (grey) and where it never is (white).
    """
    from mnist_lib.data import class_counts, mean_images  # lazy: data is not needed otherwise

    imgs = _as_images(images)
    means = mean_images(imgs, labels)
    counts = class_counts(labels)
    vmax = _pixel_max(imgs)
    fig = Figure(figsize=(PAGE_WIDTH, 3.7), layout="constrained")
    axes = fig.subplots(2, 5)
    for digit, ax in enumerate(axes.flat):
        ax.imshow(means[digit], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        _hide_frame(ax)
        ax.set_title(f"{digit}  ({counts[digit]:,} images)", fontsize=9)
    fig.suptitle("The average image of each digit", fontsize=12)
    return fig


def _scaled_text(value: float) -> str:
    """A scaled pixel with two decimals; exact 0 and 1 short, tiny values not shown as 0.00."""
    if value == 0:
        return "0"
    if value >= 1.0:
        return "1"
    if value < 0.005:
        return "<0.01"
    return f"{value:.2f}"


def plot_scaling(image: Any, *, top: int = 6, left: int = 9, size: int = 6) -> Figure:
    """One patch of a raw digit, written out before and after scaling to [0, 1].

    Left: the whole digit with the patch outlined; middle: the patch's raw values 0..255; right:
    the same pixels divided by 255. The patch is ``size`` x ``size`` pixels from row ``top`` and
    column ``left``; its axes are numbered with the rows and columns of the whole image.
    """
    img = _as_image(image)
    if _pixel_max(img) != 255.0:
        raise InputError("image must hold raw pixel values 0..255 (before scaling).")
    for name, value in (("top", top), ("left", left), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"{name} must be a non-negative integer; got {value!r}.")
    if size < 1 or top + size > IMAGE_SIDE or left + size > IMAGE_SIDE:
        raise InputError(
            f"the patch (rows {top}..{top + size - 1}, columns {left}..{left + size - 1}) must "
            "lie inside the 28 x 28 image and hold at least one pixel."
        )
    patch = img[top : top + size, left : left + size].astype(float)
    fig = Figure(figsize=(PAGE_WIDTH, 3.1), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[1, 1.2, 1.2])

    whole = axes[0]
    whole.imshow(img, cmap=DIGIT_CMAP, vmin=0, vmax=255, interpolation="nearest")
    whole.add_patch(
        Rectangle((left - 0.5, top - 0.5), size, size, fill=False, edgecolor=HIGHLIGHT_COLOR, lw=2)
    )
    _hide_frame(whole)
    whole.set_title("the whole digit", fontsize=10)

    ticks = range(size)
    fontsize = min(9.0, 54 / size)  # "<0.01" fits a cell for every size
    for ax, values, vmax, title, text in (
        (axes[1], patch, 255.0, "raw: integers 0..255", lambda v: f"{v:.0f}"),
        (axes[2], patch / 255.0, 1.0, "scaled: value / 255, in [0, 1]", _scaled_text),
    ):
        ax.imshow(values, cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        for (row, col), value in np.ndenumerate(values):
            ax.text(
                col,
                row,
                text(float(value)),
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if value > 0.5 * vmax else "black",
            )
        ax.set_xticks(ticks, [str(left + t) for t in ticks], fontsize=8)
        ax.set_yticks(ticks, [str(top + t) for t in ticks], fontsize=8)
        ax.set_xlabel("pixel column", fontsize=9)
        ax.set_ylabel("pixel row", fontsize=9)
        ax.set_title(title, fontsize=10)
        for spine in ax.spines.values():
            spine.set_edgecolor(HIGHLIGHT_COLOR)
            spine.set_linewidth(2)
    return fig


def plot_flattening(image: Any, *, row: int = 14, col: int = 14) -> Figure:
    """How flattening lays a 28 x 28 image out as one vector of 784 numbers.

    Row ``r`` goes to positions ``28 r`` .. ``28 r + 27``, so pixel (r, c) lands at position
    ``28 r + c``. Two pixels are marked: (``row``, ``col``) and the one just below it. They touch
    in the image (left) but lie 28 positions apart in the vector (top right: all of it; bottom
    right: rows ``row`` and ``row + 1`` enlarged): the 2-D neighbourhood is gone.
    """
    img = _as_image(image)
    for name, value in (("row", row), ("col", col)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InputError(f"{name} must be an integer; got {value!r}.")
    if not (0 <= row < IMAGE_SIDE - 1 and 0 <= col < IMAGE_SIDE):
        raise InputError(
            f"row must be 0..26 (the pixel below it is marked too) and col 0..27; "
            f"got row={row}, col={col}."
        )
    vmax = _pixel_max(img)
    flat = img.reshape(-1).astype(float)
    first, below = IMAGE_SIDE * row + col, IMAGE_SIDE * (row + 1) + col
    start, stop = IMAGE_SIDE * row, IMAGE_SIDE * (row + 2)  # the two rows, as positions

    fig = Figure(figsize=(PAGE_WIDTH, 3.6), layout="constrained")
    axes = fig.subplot_mosaic(
        [["image", "vector"], ["image", "zoom"]], width_ratios=[1, 2.4], height_ratios=[1.6, 1]
    )
    ax_img, ax_vec, ax_zoom = axes["image"], axes["vector"], axes["zoom"]

    def mark(ax: Axes, x: float, y: float) -> None:
        ax.add_patch(
            Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT_COLOR, lw=1.5)
        )

    ax_img.imshow(img, cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
    ax_img.add_patch(
        Rectangle((-0.5, row - 0.5), IMAGE_SIDE, 2, fill=False, edgecolor=TRAIN_COLOR, lw=1.2)
    )
    mark(ax_img, col, row)
    mark(ax_img, col, row + 1)
    ax_img.set_xticks([0, col, 27])
    ax_img.set_yticks([0, row, 27])
    ax_img.tick_params(labelsize=8)
    ax_img.set_xlabel("pixel column")
    ax_img.set_ylabel("pixel row")
    ax_img.set_title("28 × 28 image", fontsize=10)  # noqa: RUF001

    ax_vec.axvspan(start - 0.5, stop - 0.5, color=TRAIN_COLOR, alpha=0.2, lw=0)
    ax_vec.vlines(np.arange(flat.size), 0, flat, color="0.25", lw=0.8)
    ax_vec.set_xlim(-0.5, flat.size - 0.5)
    ax_vec.set_ylim(0, 1.05 * vmax)
    ax_vec.set_xticks(range(0, flat.size, 4 * IMAGE_SIDE))
    ax_vec.tick_params(labelsize=8)
    ax_vec.set_ylabel("value", fontsize=9)
    ax_vec.set_xlabel("position in the vector", fontsize=9)
    ax_vec.set_title(f"the same image as one vector of {flat.size} numbers", fontsize=10)

    ax_zoom.imshow(
        flat[start:stop][None, :],
        cmap=DIGIT_CMAP,
        vmin=0,
        vmax=vmax,
        interpolation="nearest",
        aspect="auto",
        extent=(start - 0.5, stop - 0.5, 0.5, -0.5),
    )
    boundary = start + IMAGE_SIDE - 0.5
    ax_zoom.plot([boundary, boundary], [-0.5, 0.5], color=TRAIN_COLOR, lw=1.2)
    for r in (row, row + 1):
        ax_zoom.text(
            IMAGE_SIDE * r + 0.5, 0, f"row {r}", ha="left", va="center", fontsize=8, color="0.3"
        )
    mark(ax_zoom, first, 0)
    mark(ax_zoom, below, 0)
    ax_zoom.annotate(
        "",
        (below, -0.55),
        xytext=(first, -0.55),
        arrowprops={"arrowstyle": "<->", "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
        annotation_clip=False,
    )
    ax_zoom.text(
        (first + below) / 2,
        -0.7,
        f"{below - first} positions apart",
        ha="center",
        va="bottom",
        fontsize=9,
    )
    ax_zoom.set_ylim(0.5, -1.6)
    ax_zoom.set_yticks([])
    for spine in ("top", "left", "right"):
        ax_zoom.spines[spine].set_visible(False)
    ax_zoom.set_xticks(sorted({start, first, start + IMAGE_SIDE, below, stop - 1}))
    ax_zoom.tick_params(labelsize=8)
    ax_zoom.set_xlabel("position in the vector: 28 × row + column", fontsize=9)  # noqa: RUF001
    return fig


def plot_data_split(n_train: int, n_validation: int, n_test: int) -> Figure:
    """The three sets the book works with, drawn to scale, each with its one job.

    The official training set is split into the part the weights are fitted on and a held-out
    validation part; the official test set stays untouched until the final score.
    """
    sizes = {"n_train": n_train, "n_validation": n_validation, "n_test": n_test}
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InputError(f"{name} must be a positive integer; got {value!r}.")
    fig = Figure(figsize=(PAGE_WIDTH, 2.5), layout="constrained")
    ax = fig.subplots()
    parts = (
        (1, 0, n_train, TRAIN_COLOR, f"training ({n_train:,}): fits the weights"),
        (
            1,
            n_train,
            n_validation,
            VALIDATION_COLOR,
            f"validation ({n_validation:,}): watches progress, chooses settings",
        ),
        (0, 0, n_test, TEST_COLOR, f"test ({n_test:,}): the final score, measured once"),
    )
    for y, start, width, color, label in parts:
        bars = ax.barh(y, width, left=start, height=0.6, color=color, label=label)
        ax.bar_label(bars, labels=[f"{width:,}"], label_type="center", color="white", fontsize=9)
    ax.set_yticks([1, 0], ["MNIST training\nfile", "MNIST test\nfile"])
    ax.set_xlim(0, n_train + n_validation)
    ax.set_ylim(-0.5, 2.6)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.set_xlabel("number of images")
    ax.legend(loc="upper left", ncols=1, fontsize=9, frameon=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return fig


def plot_activations(z_min: float = -6.0, z_max: float = 6.0) -> Figure:
    """ReLU and sigmoid (left) and their derivatives (right) over ``z_min`` .. ``z_max``.

    The derivatives are what gradient descent multiplies by: ReLU passes a gradient of exactly 1
    for every positive input; the sigmoid's is at most 0.25 and almost 0 for large ``|z|``.
    """
    if not (np.isfinite(z_min) and np.isfinite(z_max) and z_min < 0 < z_max):
        raise InputError(f"need z_min < 0 < z_max, both finite; got {z_min} and {z_max}.")
    z = np.linspace(z_min, z_max, 601)
    sigmoid = 1.0 / (1.0 + np.exp(-z))
    relu_color, sigmoid_color = TRAIN_COLOR, TEST_COLOR
    fig = Figure(figsize=(PAGE_WIDTH, 3.3), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)

    ax_f.plot(z, np.maximum(z, 0), color=relu_color, lw=2, label=r"ReLU: $\max(0, z)$")
    ax_f.plot(z, sigmoid, color=sigmoid_color, lw=2, label=r"sigmoid: $1 / (1 + e^{-z})$")
    ax_f.set_ylim(-0.5, min(z_max, 3.0))
    ax_f.set_title("activation $f(z)$", fontsize=10)
    ax_f.set_ylabel("$f(z)$")

    negative, positive = z[z < 0], z[z > 0]
    ax_d.plot(negative, np.zeros_like(negative), color=relu_color, lw=2, label="ReLU$'$: 0 or 1")
    ax_d.plot(positive, np.ones_like(positive), color=relu_color, lw=2)
    ax_d.plot(0, 0, "o", color=relu_color, mfc="white", ms=5)  # the jump at 0
    ax_d.plot(0, 1, "o", color=relu_color, mfc="white", ms=5)
    ax_d.plot(
        z,
        sigmoid * (1 - sigmoid),
        color=sigmoid_color,
        lw=2,
        label=r"sigmoid$'$: $\sigma(z)\,(1 - \sigma(z))$",
    )
    ax_d.axhline(0.25, color=sigmoid_color, lw=0.8, ls=":")
    ax_d.annotate(
        "at most 0.25",
        (z_max, 0.25),
        xytext=(0, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=9,
        color=sigmoid_color,
    )
    ax_d.set_ylim(-0.1, 1.3)
    ax_d.set_title("its derivative $f'(z)$", fontsize=10)
    ax_d.set_ylabel("$f'(z)$")

    for ax in (ax_f, ax_d):
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlim(z_min, z_max)
        ax.set_xlabel("input $z$ (the weighted sum of the layer)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9, frameon=False)
    return fig


def plot_probabilities(
    probabilities: Any, true_label: int | None = None, *, title: str | None = None
) -> Figure:
    """Bars of a model's 10 output probabilities for one image, in percent.

    The true digit's bar is drawn in another colour when ``true_label`` is given; the dashed line
    marks 10 %, what a model that cannot tell the digits apart would give each.
    """
    probs = np.asarray(probabilities, dtype=float).reshape(-1)
    if probs.shape != (NUM_CLASSES,) or not np.all(np.isfinite(probs)):
        raise InputError(
            f"probabilities must be 10 finite numbers, one per digit; got shape "
            f"{np.shape(probabilities)}."
        )
    if probs.min() < 0 or abs(probs.sum() - 1) > 1e-3:
        raise InputError(
            f"probabilities must be non-negative and sum to 1; got sum {probs.sum():.4f}."
        )
    if true_label is not None and not (
        isinstance(true_label, int | np.integer) and 0 <= true_label < NUM_CLASSES
    ):
        raise InputError(f"true_label must be a digit 0..9 or None; got {true_label!r}.")
    digits = np.arange(NUM_CLASSES)
    colors = [
        HIGHLIGHT_COLOR if true_label is not None and d == true_label else TRAIN_COLOR
        for d in digits
    ]
    fig = Figure(figsize=(PAGE_WIDTH, 3.2), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(digits, 100 * probs, color=colors)
    ax.bar_label(bars, labels=[f"{p:.0%}" for p in probs], padding=2, fontsize=9)
    ax.axhline(10, color="0.3", ls="--", lw=1, label="10 %: every digit equally likely")
    handles, _ = ax.get_legend_handles_labels()
    if true_label is not None:
        handles.append(Patch(color=HIGHLIGHT_COLOR, label=f"the true digit, {int(true_label)}"))
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability (%)")
    ax.set_ylim(0, max(100 * probs.max() * 1.25, 15))
    ax.legend(handles=handles, loc="upper right", fontsize=9, frameon=False)
    ax.set_title(title or "The model's probability for each digit")
    return fig


def plot_pair_mistakes(
    images: Any,
    mistakes: Sequence[Mistake],
    pairs: Sequence[Sequence[int]],
    *,
    per_pair: int = 8,
) -> Figure:
    """One row per confused pair (``true → predicted``) showing its mistakes, most confident first.

    ``pairs`` holds ``(true, predicted)`` tuples, or the ``(true, predicted, count)`` triples of
    :func:`mnist_lib.evaluate.most_confused_pairs`; ``mistakes`` is the list from
    :func:`mnist_lib.evaluate.rank_mistakes` on ``images``. Each row shows up to ``per_pair``
    images, each titled with the model's confidence in its wrong answer.
    """
    imgs = _as_images(images)
    if isinstance(per_pair, bool) or not isinstance(per_pair, int | np.integer) or per_pair < 1:
        raise InputError(f"per_pair must be a positive integer; got {per_pair!r}.")
    wanted: list[tuple[int, int]] = []
    for pair in pairs:
        try:
            true, pred = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            raise InputError(
                f"pairs must hold (true, predicted) or (true, predicted, count); got {pair!r}."
            ) from None
        wanted.append((true, pred))
    if not wanted:
        raise InputError("pairs is empty: name at least one (true, predicted) pair.")
    rows = []
    for true, pred in wanted:
        found = [m for m in mistakes if (m.true_label, m.predicted_label) == (true, pred)]
        outside = [m.index for m in found if not 0 <= m.index < len(imgs)]
        if outside:
            raise InputError(f"A mistake refers to image {outside[0]}; images holds {len(imgs)}.")
        rows.append((true, pred, found))

    vmax = _pixel_max(imgs)
    cols = int(per_pair)
    cell = min((PAGE_WIDTH - 1.0) / cols, 0.95)
    width = max(cell * cols + 1.0, 6.0)  # room for the two-line heading even with few columns
    height = len(rows) * (cell + 0.22) + 0.75
    fig = Figure(figsize=(round(width, 2), round(height, 2)))  # whole pixels at 100 dpi
    fig.set_layout_engine("constrained", w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for r, (true, pred, found) in enumerate(rows):
        for c in range(cols):
            ax = axes[r, c]
            _hide_frame(ax)
            if c < len(found):
                image = imgs[found[c].index]
                ax.imshow(image, cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
                ax.set_title(_confidence_text(found[c].confidence), fontsize=8, pad=2)
            else:
                ax.set_axis_off()
        count = f"{len(found)} image{'' if len(found) == 1 else 's'}"
        if len(found) > cols:
            count += f",\n{cols} shown"
        axes[r, 0].set_axis_on()
        _hide_frame(axes[r, 0])
        axes[r, 0].set_ylabel(
            f"{true} → {pred}\n{count}", rotation=0, fontsize=10, labelpad=30, va="center"
        )
    fig.suptitle(
        "Mistakes of the most confused pairs (true → predicted), most confident first\n"
        "(% = the model's confidence in its wrong answer)",
        fontsize=11,
    )
    return fig


def plot_log_loss() -> Figure:
    """The cross-entropy loss of one image, ``-log p``, against ``p``, the probability of the truth.

    Marks a few points: a blind guess among ten digits (p = 0.1), a coin flip, and confident
    right answers. The loss is 0 only when p = 1 and grows without bound as p goes to 0.
    """
    p = np.linspace(0.004, 1.0, 500)
    fig = Figure(figsize=(PAGE_WIDTH, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(p, -np.log(p), color=TRAIN_COLOR, lw=2)
    marks = (  # p, what it means, where the text goes (data coordinates)
        (0.1, "a blind guess among 10 digits", (0.14, 2.75)),
        (0.5, "torn between two digits", (0.47, 1.45)),
        (0.9, "fairly sure", (0.66, 2.1)),
        (0.99, "very sure", (0.82, 1.0)),
    )
    for value, text, where in marks:
        loss = -math.log(value)
        ax.plot([value], [loss], "o", color=TEST_COLOR, ms=6, zorder=3)
        ax.annotate(
            f"p = {value:g}: loss {loss:.3f}\n({text})",
            (value, loss),
            xytext=where,
            fontsize=9,
            arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.8, "shrinkB": 4},
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 5.6)
    ax.set_xlabel("p, the probability the model gives to the true digit")
    ax.set_ylabel("loss = \N{MINUS SIGN}log p")
    ax.set_title("Cross-entropy loss of one image")
    ax.grid(alpha=0.3)
    return fig
