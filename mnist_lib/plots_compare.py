"""Figures that compare training runs: a grid of results, learning curves side by side, models
at a glance.

From the activations chapter on, the book trains several variants of a recipe and asks what a
change did. A table gives the numbers; these figures make the pattern visible:

- :func:`plot_grid_heatmap`: one number per cell of a two-way grid (activation x optimizer),
  written in its cell, so both the pattern and the exact values can be read;
- :func:`plot_run_curves`: one line per run and epoch, to see *how* runs got where they ended;
- :func:`plot_model_comparison`: the test errors of models of different kinds, with what each
  costs (parameters, training time);
- :func:`plot_activation_functions`: the hidden activations a grid compares, and their slopes.

The conventions are those of :mod:`mnist_lib.plots`: every function returns a
:class:`matplotlib.figure.Figure` built without pyplot, at most a page (7.5 inches) wide, with
constrained layout, and raises :class:`mnist_lib.errors.InputError` for input it cannot draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnist_lib.compare import ModelSummary, format_duration
from mnist_lib.errors import InputError
from mnist_lib.plots import (
    HIGHLIGHT_COLOR,
    PAGE_WIDTH,
    TEST_COLOR,
    TRAIN_COLOR,
    _PercentTicks,
)

__all__ = [
    "ACTIVATIONS",
    "METRIC_LABELS",
    "plot_activation_functions",
    "plot_grid_heatmap",
    "plot_model_comparison",
    "plot_run_curves",
]

METRIC_LABELS = {
    "loss": "training loss",
    "accuracy": "training accuracy",
    "val_loss": "validation loss",
    "val_accuracy": "validation accuracy",
}
"""How the history keys of :mod:`mnist_lib.train` are named on axes."""

RUN_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Matplotlib's ten default colours; runs beyond ten repeat them with another line style."""

RUN_LINESTYLES = ("-", "--", ":", "-.")


def _is_dark(rgba: Sequence[float]) -> bool:
    """Whether a colour is dark enough that text on it must be white (perceived luminance)."""
    red, green, blue = rgba[:3]
    return 0.299 * red + 0.587 * green + 0.114 * blue < 0.5


def _labels(labels: Sequence[Any], count: int, name: str, axis: str) -> list[str]:
    texts = [str(label) for label in labels]
    if len(texts) != count:
        raise InputError(
            f"{name} must name each of the {count} {axis} of values; got {len(texts)} labels."
        )
    return texts


def _format(value_format: str, value: float) -> str:
    try:
        return value_format.format(value)
    except (ValueError, IndexError, KeyError) as error:
        raise InputError(
            f"value_format must format one number, like '{{:.2%}}'; got {value_format!r} ({error})."
        ) from None


# --------------------------------------------------------------------------------------------------
# A grid of results
# --------------------------------------------------------------------------------------------------


def plot_grid_heatmap(
    values: Any,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any],
    *,
    annotations: Any = None,
    value_format: str = "{:.2%}",
    title: str | None = None,
    row_title: str | None = None,
    col_title: str | None = None,
    colorbar_label: str | None = None,
    cmap: str = "viridis",
    highlight: tuple[int, int] | None = None,
) -> Figure:
    """A heatmap of a 2-D grid of results with the text of every cell written in it.

    Colour shows the pattern at a glance, the text gives the exact numbers. ``annotations`` (an
    array of strings of the same shape, lines separated by ``"\\n"``) replaces the default text,
    ``value_format`` applied to each value; the same format writes the colour bar's ticks (a
    percent format such as ``"{:.2%}"`` gives percent ticks). Text is white on dark cells and
    black on light ones. NaN marks a cell without a result: it is left grey and says "no run".
    ``highlight`` = ``(row, column)`` frames one cell, e.g. the reference recipe.
    """
    try:
        grid = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError("values must be a 2-D array of numbers (rows x columns).") from None
    if grid.ndim != 2 or grid.size == 0:
        raise InputError(
            f"values must be a non-empty 2-D array (rows x columns); got shape {grid.shape}."
        )
    if np.isinf(grid).any():
        raise InputError("values must be finite numbers (NaN marks a cell without a result).")
    if np.isnan(grid).all():
        raise InputError("values holds no result at all: every cell is NaN.")
    n_rows, n_cols = grid.shape
    rows = _labels(row_labels, n_rows, "row_labels", "rows")
    cols = _labels(col_labels, n_cols, "col_labels", "columns")
    if annotations is None:
        texts = [[_format(value_format, v) for v in row] for row in grid]
    else:
        notes = np.asarray(annotations, dtype=object)
        if notes.shape != grid.shape:
            raise InputError(
                f"annotations must have the shape of values, {grid.shape}; got {notes.shape}."
            )
        texts = [[str(text) for text in row] for row in notes]
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if np.isnan(value):
                texts[i][j] = "no run"
    if highlight is not None:
        try:
            hi, hj = (int(v) for v in highlight)
        except (TypeError, ValueError):
            raise InputError(
                f"highlight must be a (row, column) pair; got {highlight!r}."
            ) from None
        if not (0 <= hi < n_rows and 0 <= hj < n_cols):
            raise InputError(f"highlight {highlight!r} lies outside the {n_rows} x {n_cols} grid.")
    percent = "%" in value_format

    lines = max(text.count("\n") + 1 for row in texts for text in row)
    label_width = max(len(label) for label in rows)
    width = min(PAGE_WIDTH, 1.6 + 0.075 * label_width + n_cols * (1.05 + 0.1 * lines))
    height = 1.5 + n_rows * (0.3 + 0.2 * lines)
    fig = Figure(figsize=(round(max(width, 4.0), 2), round(height, 2)), layout="constrained")
    ax = fig.subplots()
    finite = grid[np.isfinite(grid)]
    low, high = float(finite.min()), float(finite.max())
    if low == high:  # one value everywhere: any colour will do, but Normalize needs a range
        low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
    norm = Normalize(vmin=low, vmax=high)
    colormap = colormaps[cmap].with_extremes(bad="0.92")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=colormap, norm=norm, aspect="auto")
    fontsize = 10 if n_cols <= 5 else 9
    for i in range(n_rows):
        for j in range(n_cols):
            value = grid[i, j]
            if np.isnan(value):
                color = "0.45"
            else:
                color = "white" if _is_dark(colormap(norm(value))) else "black"
            ax.text(
                j,
                i,
                texts[i][j],
                ha="center",
                va="center",
                fontsize=fontsize,
                color=color,
                linespacing=1.3,
            )
    if highlight is not None:
        ax.add_patch(
            Rectangle(
                (hj - 0.5, hi - 0.5),
                1,
                1,
                fill=False,
                edgecolor=HIGHLIGHT_COLOR,
                linewidth=2.5,
                clip_on=False,
            )
        )
    ax.set_xticks(range(n_cols), cols)
    ax.set_yticks(range(n_rows), rows)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if col_title:
        ax.set_xlabel(col_title, labelpad=8)
    if row_title:
        ax.set_ylabel(row_title)
    if title:
        ax.set_title(title, pad=10)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.03)
    colorbar.ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    if percent:
        colorbar.ax.yaxis.set_major_formatter(_PercentTicks())
    else:
        colorbar.ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _pos: _format(value_format, v))
        )
    if colorbar_label:
        colorbar.set_label(colorbar_label)
    return fig


# --------------------------------------------------------------------------------------------------
# Learning curves of several runs
# --------------------------------------------------------------------------------------------------


def _run_series(run: str, history: Any, metric: str) -> np.ndarray:
    """One run's curve as a 1-D float array, or an InputError naming the run and the metric."""
    if not isinstance(history, Mapping) and isinstance(getattr(history, "history", None), Mapping):
        history = history.history  # a Keras History object, or a TrainResult
    if not isinstance(history, Mapping):
        raise InputError(
            f"the history of run {run!r} must be a dict of per-epoch values; got "
            f"{type(history).__name__}."
        )
    if metric not in history:
        raise InputError(
            f"the history of run {run!r} has no {metric!r} (it has: {', '.join(sorted(history))})."
        )
    try:
        series = np.asarray(history[metric], dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"{metric!r} of run {run!r} must be a list of numbers, one per epoch."
        ) from None
    if series.ndim != 1 or series.size == 0 or not np.all(np.isfinite(series)):
        raise InputError(
            f"{metric!r} of run {run!r} must be a non-empty list of finite numbers, one per epoch."
        )
    return series


def plot_run_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    metrics: str | Sequence[str] = ("val_loss", "val_accuracy"),
    *,
    title: str | None = None,
    log_loss: bool = False,
) -> Figure:
    """One line per run, epoch by epoch: one panel per metric, one legend for all panels.

    ``histories`` maps a run's name to its history (``TrainResult.history``: ``loss``,
    ``accuracy``, ``val_loss``, ``val_accuracy``); runs may have different numbers of epochs.
    Accuracies get percent ticks. ``log_loss=True`` draws loss panels on a logarithmic scale, for
    runs whose losses differ by factors. A run keeps its colour in every panel.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise InputError("histories must map at least one run name to its history.")
    names = list(metrics) if not isinstance(metrics, str) else [metrics]
    if not names:
        raise InputError("metrics must name at least one metric, such as 'val_accuracy'.")
    curves = {
        run: [_run_series(str(run), history, metric) for metric in names]
        for run, history in histories.items()
    }
    longest = max(len(series) for per_run in curves.values() for series in per_run)

    fig = Figure(figsize=(PAGE_WIDTH, 3.4 + 0.22 * math.ceil(len(curves) / 3)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    marker = "o" if longest <= 30 else None
    for index, (run, per_run) in enumerate(curves.items()):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        style = RUN_LINESTYLES[(index // len(RUN_COLORS)) % len(RUN_LINESTYLES)]
        for ax, series in zip(axes, per_run, strict=True):
            epochs = np.arange(1, len(series) + 1)
            ax.plot(epochs, series, linestyle=style, marker=marker, ms=3.5, color=color, label=run)
    for ax, metric in zip(axes, names, strict=True):
        label = METRIC_LABELS.get(metric, metric)
        ax.set_title(label[0].upper() + label[1:], fontsize=11)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xlim(0.5, longest + 0.5)
        if longest <= 12:
            ax.set_xticks(np.arange(1, longest + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if metric.endswith("accuracy"):
            ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_formatter(_PercentTicks())
        elif log_loss and metric.endswith("loss"):
            ax.set_yscale("log")
            # 0.1, 0.2, 0.3 rather than 10^-1, 2x10^-1, 5x10^-1: a beginner reads them at once
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    handles, labels = axes[0].get_legend_handles_labels()
    longest_label = max(len(label) for label in labels)
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=max(1, min(len(labels), 4, 96 // (longest_label + 6))),
        fontsize=9,
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------------
# Models at a glance
# --------------------------------------------------------------------------------------------------


def _check_summaries(summaries: Sequence[ModelSummary]) -> tuple[list[ModelSummary], int]:
    """The summaries as a list, checked: at least one, each a ModelSummary with its own name, all
    from one test set; and that test set's size."""
    summaries = list(summaries)
    if not summaries:
        raise InputError("summaries must hold at least one ModelSummary.")
    for summary in summaries:
        if not isinstance(summary, ModelSummary):
            raise InputError(
                f"summaries must hold ModelSummary records (from train_and_summarize); got "
                f"{type(summary).__name__}."
            )
    names = [s.name for s in summaries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"every model needs its own name; repeated: {', '.join(duplicates)}.")
    sizes = {len(s.test_predictions) for s in summaries}
    if len(sizes) != 1:
        raise InputError("every summary must come from the same test set.")
    return summaries, sizes.pop()


def plot_model_comparison(
    summaries: Sequence[ModelSummary],
    *,
    show_costs: bool = True,
    show_time: bool = True,
    intervals: bool = False,
    highlight: str | None = None,
    title: str | None = "Test errors of each model (fewer is better)",
) -> Figure:
    """Horizontal bars of each model's test errors, with what the model costs beside it.

    One bar per :class:`~mnist_lib.compare.ModelSummary`, in the order given, the first at the
    top; each bar is labelled with its error count and test accuracy. With ``show_costs`` the
    right-hand side names each model's parameters and (with ``show_time``) its training time.
    ``intervals=True`` adds whiskers of two binomial standard errors, ``2 sqrt(n a (1 - a))``
    images for accuracy ``a`` on ``n`` test images: how far the count could move on another test
    set of the same size, so bars whose whiskers overlap are not clearly different.
    ``highlight`` names a model drawn in another colour, e.g. the reference. Errors rather than
    accuracy, because differences of a few tenths of a percent are easier to compare as counts.
    """
    summaries, n_test = _check_summaries(summaries)
    names = [s.name for s in summaries]
    if highlight is not None and highlight not in names:
        raise InputError(f"highlight {highlight!r} names no model; the models: {', '.join(names)}.")

    errors = np.array([s.test_errors for s in summaries], dtype=float)
    accuracy = np.array([s.test_accuracy for s in summaries], dtype=float)
    whiskers = (
        2 * np.sqrt(n_test * accuracy * (1 - accuracy)) if intervals else np.zeros(len(errors))
    )
    positions = np.arange(len(summaries))
    colors = [TEST_COLOR if s.name == highlight else TRAIN_COLOR for s in summaries]
    fig = Figure(figsize=(PAGE_WIDTH, 1.3 + 0.4 * len(summaries)), layout="constrained")
    ax = fig.subplots()
    ax.barh(positions, errors, color=colors, height=0.65)
    if intervals:
        ax.errorbar(
            errors, positions, xerr=whiskers, fmt="none", ecolor="0.2", elinewidth=1, capsize=3
        )
    for y, x, s in zip(positions, errors + whiskers, summaries, strict=True):
        ax.annotate(
            f"{s.test_errors}  ({s.test_accuracy:.2%})",
            (x, y),
            xytext=(4, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(positions, names)
    ax.set_ylim(len(summaries) - 0.5, -0.5)  # the first model at the top
    ax.set_xlim(0, max(float((errors + whiskers).max()), 1.0) * 1.3)  # room for the labels
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
    xlabel = f"test errors (of {n_test:,} images)"
    if intervals:
        xlabel += ", whiskers: \N{PLUS-MINUS SIGN}2 standard errors"
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)

    if show_costs:
        costs = ax.secondary_yaxis("right")
        costs.set_yticks(
            positions,
            [
                f"{s.parameters:,} params"
                + (f" · {format_duration(s.train_seconds)}" if show_time else "")
                for s in summaries
            ],
        )
        costs.tick_params(length=0, labelsize=9, labelcolor="0.3")
        costs.spines["right"].set_visible(False)
    if title:
        ax.set_title(title)
    return fig


# --------------------------------------------------------------------------------------------------
# The activation functions a grid compares
# --------------------------------------------------------------------------------------------------


def _relu(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(z, 0.0), np.where(z > 0, 1.0, 0.0)


def _sigmoid(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = 1.0 / (1.0 + np.exp(-z))
    return s, s * (1.0 - s)


def _tanh(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.tanh(z)
    return t, 1.0 - t**2


def _gelu(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact GELU, as Keras' ``"gelu"``: z times the standard normal CDF of z."""
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    return z * cdf, cdf + z * pdf


ACTIVATIONS = {
    "relu": ("ReLU", _relu),
    "sigmoid": ("sigmoid", _sigmoid),
    "tanh": ("tanh", _tanh),
    "gelu": ("GELU", _gelu),
}
"""The activations :func:`plot_activation_functions` can draw, by their Keras names."""


def plot_activation_functions(
    names: Sequence[str] = ("relu", "sigmoid", "tanh", "gelu"),
    *,
    z_min: float = -4.0,
    z_max: float = 4.0,
) -> Figure:
    """The activations ``names`` (left) and their derivatives (right), each in its own colour.

    The derivative is the factor by which a unit passes the gradient back during training, so
    the right panel shows where each activation *saturates* (slope near 0) and how large a
    gradient it can pass at best.
    """
    chosen = list(names)
    if not chosen:
        raise InputError("names must name at least one activation.")
    unknown = [name for name in chosen if name not in ACTIVATIONS]
    if unknown:
        raise InputError(
            f"cannot draw {', '.join(map(repr, unknown))}; known activations: "
            f"{', '.join(ACTIVATIONS)}."
        )
    if not (math.isfinite(z_min) and math.isfinite(z_max) and z_min < 0 < z_max):
        raise InputError(f"need z_min < 0 < z_max, both finite; got {z_min} and {z_max}.")
    z = np.linspace(z_min, z_max, 801)
    fig = Figure(figsize=(PAGE_WIDTH, 3.5), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)
    for index, name in enumerate(chosen):
        label, function = ACTIVATIONS[name]
        values, slopes = function(z)
        color = RUN_COLORS[index % len(RUN_COLORS)]
        ax_f.plot(z, values, color=color, lw=2, label=label)
        if name == "relu":  # the slope jumps at 0: draw it as two pieces, not a vertical line
            ax_d.plot(z[z < 0], slopes[z < 0], color=color, lw=2, label=label)
            ax_d.plot(z[z > 0], slopes[z > 0], color=color, lw=2)
        else:
            ax_d.plot(z, slopes, color=color, lw=2, label=label)
    ax_f.set_ylim(-1.3, min(z_max, 3.0) + 0.2)
    ax_f.set_title("activation $f(z)$", fontsize=10)
    ax_f.set_ylabel("$f(z)$")
    ax_d.set_ylim(-0.2, 1.35)
    ax_d.set_title("its derivative $f'(z)$", fontsize=10)
    ax_d.set_ylabel("$f'(z)$")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlim(z_min, z_max)
        ax.set_xlabel("input $z$ (the weighted sum of the unit)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9, frameon=False)
    return fig


# --------------------------------------------------------------------------------------------------
# Every mistake of one model, in groups
# --------------------------------------------------------------------------------------------------

MAX_GALLERY_DIGITS = 150
"""The most digits :func:`plot_mistake_groups` draws: more would not fit on a few pages."""


def plot_mistake_groups(
    images: Any,
    groups: Mapping[str, Sequence[Any]],
    *,
    columns: int = 10,
    show_index: bool = False,
    title: str | None = None,
) -> Figure:
    """Misclassified digits in labelled groups, each digit under ``true → predicted`` and the
    model's confidence in its wrong answer.

    ``groups`` maps a heading to a list of :class:`~mnist_lib.evaluate.Mistake` records (from
    :func:`~mnist_lib.evaluate.rank_mistakes`, for the same ``images``), drawn in the order
    given, ``columns`` per row; the heading is followed by the number of digits in the group,
    and an empty group says "none". Every group has the same cell size, so digits compare across
    groups. ``show_index=True`` writes each digit's position in ``images`` under it, so the text
    can name it ("image 2654"). Made to show *all* of a model's mistakes split by what other
    models did with them, e.g. "wrong for every model" and "only this model wrong"; a mistake
    may appear only once.
    """
    from mnist_lib.plots import (
        DIGIT_CMAP,
        _as_images,
        _confidence_text,
        _hide_frame,
        _pixel_max,
    )

    imgs = _as_images(images)
    if isinstance(columns, bool) or not isinstance(columns, int | np.integer) or columns < 1:
        raise InputError(f"columns must be a positive integer; got {columns!r}.")
    if not isinstance(groups, Mapping) or not groups:
        raise InputError("groups must map at least one heading to a list of mistakes.")
    fields = ("index", "true_label", "predicted_label", "confidence")
    seen: dict[int, str] = {}
    shown: dict[str, list[Any]] = {}
    for heading, mistakes in groups.items():
        if isinstance(mistakes, str | bytes) or not isinstance(mistakes, Sequence):
            raise InputError(
                f"group {heading!r} must be a list of Mistake records (from rank_mistakes); "
                f"got {type(mistakes).__name__}."
            )
        for m in mistakes:
            if not all(hasattr(m, field) for field in fields):
                raise InputError(
                    f"group {heading!r} must hold Mistake records (from rank_mistakes); got "
                    f"{type(m).__name__}."
                )
            index = int(m.index)
            if not 0 <= index < len(imgs):
                raise InputError(
                    f"a mistake in group {heading!r} refers to image {index} but images holds "
                    f"{len(imgs)}; pass the images the mistakes were ranked on."
                )
            if index in seen:
                raise InputError(
                    f"image {index} is in group {seen[index]!r} and in group {heading!r}; each "
                    "mistake belongs in one group."
                )
            seen[index] = str(heading)
        shown[str(heading)] = list(mistakes)
    if len(seen) > MAX_GALLERY_DIGITS:
        raise InputError(
            f"at most {MAX_GALLERY_DIGITS} digits fit in one gallery; got {len(seen)}."
        )

    columns = int(columns)
    show_index = bool(show_index)
    vmax = _pixel_max(imgs)
    cell = min(PAGE_WIDTH / columns, 1.0)
    title_height = 0.36 + (0.16 if show_index else 0.0)  # text above (and below) each digit
    heading_height = 0.34
    rows = [max(1, math.ceil(len(mistakes) / columns)) for mistakes in shown.values()]
    heights = [
        heading_height + (n * (cell + title_height) if mistakes else 0.35)
        for n, mistakes in zip(rows, shown.values(), strict=True)
    ]
    width = round(max(cell * columns, 4.6), 2)
    fig = Figure(
        figsize=(width, round(sum(heights) + (0.45 if title else 0.1), 2)),
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.03, wspace=0.03, hspace=0.03)
    panels = fig.subfigures(len(shown), 1, height_ratios=heights, squeeze=False)[:, 0]
    for panel, (heading, mistakes), n_rows in zip(panels, shown.items(), rows, strict=True):
        panel.suptitle(
            f"{heading} ({len(mistakes)})", x=0.01, ha="left", fontsize=10, fontweight="bold"
        )
        if not mistakes:
            ax = panel.subplots()
            ax.set_axis_off()
            ax.text(0.01, 0.5, "none", ha="left", va="center", fontsize=9, color="0.4")
            continue
        axes = panel.subplots(n_rows, columns, squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        for ax, m in zip(axes.flat, mistakes, strict=False):
            ax.set_axis_on()
            _hide_frame(ax)
            ax.imshow(
                imgs[int(m.index)], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest"
            )
            ax.set_title(
                f"{m.true_label} \N{RIGHTWARDS ARROW} {m.predicted_label}\n"
                f"{_confidence_text(float(m.confidence))}",
                fontsize=8.5,
                linespacing=1.1,
                pad=2,
            )
            if show_index:
                ax.set_xlabel(f"{int(m.index)}", fontsize=7.5, color="0.35", labelpad=1)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


__all__ += ["MAX_GALLERY_DIGITS", "plot_mistake_groups"]
