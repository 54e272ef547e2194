"""Figures of the regularization chapter: augmented digits, and each technique against a baseline.

The chapter trains the reference network for 20 epochs, once as it is (the *baseline*) and once
with each regularization technique, and asks what each technique changed. These figures answer
that visually:

- :func:`plot_augmentation_examples`: training digits next to random variants of them, to see
  what data augmentation feeds the network;
- :func:`plot_runs_against_baseline`: one small panel per technique with its learning curves
  drawn over the baseline's, so every technique is compared with the same run, one at a time;
- :func:`plot_regularization_effects`: test accuracy (with its chance range) and the gap between
  training and validation accuracy, one row per run.

The conventions are those of :mod:`mnist_lib.plots`: every function returns a
:class:`matplotlib.figure.Figure` built without pyplot, at most a page (7.5 inches) wide, with
constrained layout, and raises :class:`mnist_lib.errors.InputError` for input it cannot draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnist_lib.compare import ModelSummary
from mnist_lib.errors import InputError
from mnist_lib.plots import (
    DIGIT_CMAP,
    IMAGE_SIDE,
    PAGE_WIDTH,
    TRAIN_COLOR,
    _as_images,
    _hide_frame,
    _numeric_array,
    _PercentTicks,
    _pixel_max,
)
from mnist_lib.plots_compare import RUN_COLORS as _ALL_RUN_COLORS
from mnist_lib.plots_compare import _check_summaries, _run_series

__all__ = [
    "BASELINE_COLOR",
    "plot_augmentation_examples",
    "plot_regularization_effects",
    "plot_runs_against_baseline",
]

BASELINE_COLOR = "0.55"
"""The baseline is drawn in grey everywhere, so that the technique's own colour stands out."""

RUN_COLORS = tuple(color for color in _ALL_RUN_COLORS if color != "#7f7f7f")
"""One colour per technique: Matplotlib's defaults without their grey, kept for the baseline."""


METRIC_NAMES = {
    "loss": "training loss",
    "accuracy": "training accuracy",
    "val_loss": "validation loss",
    "val_accuracy": "validation accuracy",
}
METRIC_STYLES = ("-", "--", ":", "-.")
"""Line style of the first, second, ... metric of a panel (solid, dashed, ...)."""


# --------------------------------------------------------------------------------------------------
# Augmented digits
# --------------------------------------------------------------------------------------------------


def plot_augmentation_examples(
    images: Any,
    variants: Any,
    labels: Sequence[int] | None = None,
    *,
    variant_title: str = "random variants",
    guides: bool = True,
) -> Figure:
    """Each digit (left) next to its variants (right), one row per digit.

    ``images`` is a batch (N, 28, 28) of originals, ``variants`` holds K variants of each,
    shape (N, K, 28, 28): ``variants[i, k]`` is the k-th variant of ``images[i]``. A shift of a
    pixel or two is hard to see on a digit alone; ``guides`` draws a faint cross through every
    image's centre, so how far the ink moved can be read off. ``labels`` name the rows.
    """
    originals = _as_images(images, "images")
    arr = _numeric_array(variants, "variants")
    if arr.ndim != 4 or arr.shape[2:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise InputError(
            f"variants must have shape (N, K, 28, 28): K variants of each of the N images; got "
            f"{arr.shape}."
        )
    n, k = arr.shape[:2]
    if n != len(originals):
        raise InputError(
            f"variants holds variants of {n} images but images holds {len(originals)}; give "
            "the variants of every image, in the same order."
        )
    if n > 10 or k > 10:
        raise InputError(
            f"at most 10 images with 10 variants each fit on a page; got {n} images with {k} "
            "variants."
        )
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != n:
            raise InputError(f"labels must name each of the {n} images; got {len(labels)}.")
    vmax = max(_pixel_max(originals), _pixel_max(arr))

    cell = min((PAGE_WIDTH - 0.9) / (k + 1), 1.0)
    width = max(cell * (k + 1) + 0.9, 4.5)
    fig = Figure(figsize=(width, cell * n + 0.75), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.02)
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, k], wspace=0.04)
    left_axes = left.subplots(n, 1, squeeze=False)[:, 0]
    right_axes = right.subplots(n, k, squeeze=False)
    center = (IMAGE_SIDE - 1) / 2

    def draw(ax: Any, image: np.ndarray) -> None:
        _hide_frame(ax)
        ax.imshow(image, cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        if guides:
            for line in (ax.axhline, ax.axvline):
                line(center, color=TRAIN_COLOR, lw=0.6, alpha=0.45)

    for i in range(n):
        draw(left_axes[i], originals[i])
        if labels is not None:
            left_axes[i].set_ylabel(labels[i], rotation=0, fontsize=12, labelpad=10, va="center")
        for j in range(k):
            draw(right_axes[i, j], arr[i, j])
    left.suptitle("original", fontsize=11)
    right.suptitle(variant_title, fontsize=11)
    return fig


# --------------------------------------------------------------------------------------------------
# Learning curves against a baseline
# --------------------------------------------------------------------------------------------------


def _run_colors(runs: Sequence[str], baseline: str) -> dict[str, str]:
    """Grey for the baseline, then one colour per run in order: the same in every figure."""
    others = [run for run in runs if run != baseline]
    colors = {run: RUN_COLORS[i % len(RUN_COLORS)] for i, run in enumerate(others)}
    colors[baseline] = BASELINE_COLOR
    return colors


def _metric_label(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric)


def plot_runs_against_baseline(
    histories: Mapping[str, Any],
    baseline: str,
    *,
    metrics: Sequence[str] = ("loss", "val_loss"),
    kept_epochs: Mapping[str, int] | None = None,
    columns: int = 3,
    log_scale: bool = False,
    y_max: float | None = None,
    ylabel: str = "loss",
) -> Figure:
    """One panel per run other than ``baseline``: its curves in colour over the baseline's in grey.

    Seven runs on one plot are a tangle; one technique at a time against the same baseline shows
    what each changed. ``histories`` maps run names to histories (``TrainResult.history``, or the
    results themselves), ``metrics`` are the curves of every panel, told apart by line style
    (the first solid, the second dashed). All panels share their axes, so they compare across
    panels too; with a single run besides the baseline, the legend names it. ``kept_epochs``
    marks, for the runs it names, the epoch whose weights the model keeps (early stopping).
    ``y_max`` cuts the value axis off, so that the first epochs' high losses do not squeeze the
    later differences flat; ``log_scale`` is the other way to fit
    losses that differ by factors.
    """
    if not isinstance(histories, Mapping) or len(histories) < 2:
        raise InputError("histories must map the baseline and at least one other run to histories.")
    if baseline not in histories:
        raise InputError(
            f"baseline {baseline!r} names no run; the runs: {', '.join(map(str, histories))}."
        )
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names or len(names) > len(METRIC_STYLES):
        raise InputError(
            f"metrics must name 1 to {len(METRIC_STYLES)} curves, such as 'val_loss'; got {names}."
        )
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise InputError(f"columns must be a positive integer; got {columns!r}.")
    curves = {
        str(run): [_run_series(str(run), history, metric) for metric in names]
        for run, history in histories.items()
    }
    kept = dict(kept_epochs or {})
    for run, epoch in kept.items():
        if run not in curves:
            raise InputError(f"kept_epochs names {run!r}, which is not one of the runs.")
        last = len(curves[run][0])
        if (
            isinstance(epoch, bool)
            or not isinstance(epoch, int | np.integer)
            or not (1 <= epoch <= last)
        ):
            raise InputError(
                f"the kept epoch of {run!r} must be an epoch from 1 to {last}; got {epoch!r}."
            )
    if y_max is not None and (
        isinstance(y_max, bool) or not isinstance(y_max, int | float) or not y_max > 0
    ):
        raise InputError(f"y_max must be a positive number or None; got {y_max!r}.")
    if log_scale:
        lowest = min(float(series.min()) for per_run in curves.values() for series in per_run)
        if lowest <= 0:
            raise InputError(
                "a logarithmic scale needs positive values; pass log_scale=False for curves "
                "that reach 0 or below."
            )

    others = [run for run in curves if run != baseline]
    cols = min(columns, len(others))
    rows = math.ceil(len(others) / cols)
    longest = max(len(series) for per_run in curves.values() for series in per_run)
    fig = Figure(figsize=(PAGE_WIDTH, 0.9 + 2.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    for ax in axes.flat[len(others) :]:
        ax.set_visible(False)
    palette = _run_colors(list(curves), baseline)
    for run, ax in zip(others, axes.flat, strict=False):
        color = palette[run]
        for series, style in zip(curves[baseline], METRIC_STYLES, strict=False):
            ax.plot(np.arange(1, len(series) + 1), series, style, color=BASELINE_COLOR, lw=1.3)
        for series, style in zip(curves[run], METRIC_STYLES, strict=False):
            ax.plot(np.arange(1, len(series) + 1), series, style, color=color, lw=1.8)
        if run in kept:
            epoch = int(kept[run])
            for series in curves[run]:
                ax.plot(epoch, series[epoch - 1], "o", color=color, ms=6, zorder=3)
            ax.axvline(epoch, color=color, lw=0.8, ls=":", zorder=1)
        ax.set_title(run, fontsize=10, color=color, fontweight="bold")
        ax.grid(alpha=0.3)
        ax.set_xlim(0.5, longest + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        if log_scale:
            ax.set_yscale("log")
            # 0.01, 0.02, 0.05 rather than 10^-2, 2x10^-2, 5x10^-2: read at once
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        elif all(metric.endswith("accuracy") for metric in names):
            ax.yaxis.set_major_formatter(_PercentTicks())
    if y_max is not None:  # the axes are shared: setting one sets all
        if log_scale:
            axes[0, 0].set_ylim(top=y_max)
        else:
            lowest = min(float(series.min()) for per_run in curves.values() for series in per_run)
            axes[0, 0].set_ylim(0.0 if lowest >= 0 else axes[0, 0].get_ylim()[0], y_max)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for index in range(len(others), rows * cols):  # an empty last slot: label the one above
        axes[(index // cols) - 1, index % cols].xaxis.set_tick_params(labelbottom=True)
        axes[(index // cols) - 1, index % cols].set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel + (" (log scale)" if log_scale else ""))

    handles = [
        Line2D([], [], color="0.2", ls=style, lw=1.6, label=_metric_label(metric))
        for metric, style in zip(names, METRIC_STYLES, strict=False)
    ]
    handles.append(Line2D([], [], color=BASELINE_COLOR, lw=3, label=f"grey: {baseline}"))
    colour_label = f"colour: {others[0]}" if len(others) == 1 else "colour: the technique"
    handles.append(Line2D([], [], color=palette[others[0]], lw=3, label=colour_label))
    if kept:
        handles.append(Line2D([], [], color="0.2", ls="", marker="o", ms=6, label="the epoch kept"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 3 if len(handles) > 4 else 4),
        fontsize=9,
        frameon=False,
    )
    return fig


# --------------------------------------------------------------------------------------------------
# Effects at a glance
# --------------------------------------------------------------------------------------------------


def _bar_panel(
    ax: Any, values: Sequence[float], colors: Sequence[str], base: int, text: str
) -> None:
    """Horizontal bars from 0, each labelled, with a dashed line at the baseline's value."""
    bars = ax.barh(np.arange(len(values)), values, color=colors, height=0.6)
    ax.bar_label(bars, labels=[text.format(v) for v in values], padding=3, fontsize=8.5)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.axvline(values[base], color=BASELINE_COLOR, lw=1, ls="--")
    right = max(max(values), 0.0)
    left = min(min(values), 0.0)
    span = right - left or 1.0
    ax.set_xlim(left - 0.05 * span, right + 0.42 * span)  # room for the labels
    ax.xaxis.set_major_locator(MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]))


def plot_regularization_effects(
    summaries: Sequence[ModelSummary],
    train_accuracies: Mapping[str, float],
    *,
    baseline: str | None = None,
    show_loss: bool = True,
) -> Figure:
    """Every run at a glance, one row each: test accuracy, test loss, train-validation gap.

    Left: each run's test accuracy as a dot, with whiskers of two binomial standard errors,
    ``2 sqrt(a (1 - a) / n)`` for accuracy ``a`` on ``n`` test images, and the baseline's range
    shaded across the panel: a dot inside the band is not clearly different from the baseline.
    Middle (``show_loss``): the test loss, which also moves when the accuracy does not (fewer
    confident mistakes). Right: the gap between the accuracy on the training images
    (``train_accuracies``, by run name) and the validation accuracy of the weights the model
    keeps, in points; overfitting shows as a wide gap, and regularization should narrow it.
    ``baseline`` (default: the first summary) is grey; the other runs keep the colours of
    :func:`plot_runs_against_baseline`.
    """
    summaries, n_test = _check_summaries(summaries)
    names = [s.name for s in summaries]
    baseline = names[0] if baseline is None else baseline
    if baseline not in names:
        raise InputError(f"baseline {baseline!r} names no run; the runs: {', '.join(names)}.")
    gaps = []
    for s in summaries:
        if s.val_accuracy is None:
            raise InputError(f"run {s.name!r} has no validation accuracy: train with validation.")
        if s.name not in train_accuracies:
            raise InputError(f"train_accuracies has no entry for run {s.name!r}.")
        value = train_accuracies[s.name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InputError(
                f"the training accuracy of {s.name!r} must be a fraction from 0 to 1; got "
                f"{value!r}."
            )
        gaps.append(100 * (float(value) - s.val_accuracy))

    accuracy = np.array([s.test_accuracy for s in summaries])
    spread = 2 * np.sqrt(accuracy * (1 - accuracy) / n_test)
    palette = _run_colors(names, baseline)
    colors = [palette[name] for name in names]
    positions = np.arange(len(summaries))
    base = names.index(baseline)

    fig = Figure(figsize=(PAGE_WIDTH, 1.6 + 0.42 * len(summaries)), layout="constrained")
    ratios = [1.5, 1, 1] if show_loss else [1.3, 1]
    axes = fig.subplots(1, len(ratios), sharey=True, width_ratios=ratios)
    ax_acc, ax_gap = axes[0], axes[-1]
    ax_acc.axvspan(
        accuracy[base] - spread[base],
        accuracy[base] + spread[base],
        color=BASELINE_COLOR,
        alpha=0.18,
        lw=0,
    )
    ax_acc.axvline(accuracy[base], color=BASELINE_COLOR, lw=1, ls="--")
    for y, a, e, color in zip(positions, accuracy, spread, colors, strict=True):
        ax_acc.errorbar(a, y, xerr=e, fmt="o", color=color, ms=7, elinewidth=1.5, capsize=3)
        ax_acc.annotate(
            f"{a:.2%}",
            (a, y),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8.5,
        )
    low = float((accuracy - spread).min())
    high = float((accuracy + spread).max())
    margin = 0.08 * (high - low)
    ax_acc.set_xlim(low - margin, high + margin)
    ax_acc.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    ax_acc.xaxis.set_major_formatter(_PercentTicks())
    ax_acc.set_xlabel(f"on {n_test:,} images;\nwhiskers \u00b12 standard errors")
    ax_acc.set_title("Test accuracy", fontsize=11)

    if show_loss:
        ax_loss = axes[1]
        _bar_panel(ax_loss, [s.test_loss for s in summaries], colors, base, "{:.3f}")
        ax_loss.set_xlabel("cross-entropy\n(lower is better)")
        ax_loss.set_title("Test loss", fontsize=11)

    _bar_panel(ax_gap, gaps, colors, base, "{:.2f}")
    ax_gap.set_xlabel("training \u2212 validation\naccuracy (points)")
    ax_gap.set_title("Overfitting gap", fontsize=11)

    ax_acc.set_yticks(positions, names)
    ax_acc.set_ylim(len(summaries) - 0.4, -0.7)  # the first run at the top
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="y", length=0)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    for label, color in zip(ax_acc.get_yticklabels(), colors, strict=True):
        label.set_color("0.25" if color == BASELINE_COLOR else color)
    return fig
