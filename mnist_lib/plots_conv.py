"""Figures of the convolutional chapter: learned filters, feature maps, and two models' answers.

A convolutional network is easier to trust once you have looked inside it. These figures show
what its first layer learned and what its layers make of one digit:

- :func:`plot_conv_filters`: the small filters of a convolution layer, one tiny image each, in a
  diverging colour map centred on 0 (red: ink there raises the output, blue: lowers it);
- :func:`plot_feature_maps`: the maps a layer computes for one image, one panel per channel,
  optionally next to the input digit and above each map the filter that made it;
- :func:`plot_error_examples`: test digits with their label and the answers of several models,
  wrong answers marked, to see which mistakes a new model fixes and which it keeps.

The conventions are those of :mod:`mnist_lib.plots`: every function returns a
:class:`matplotlib.figure.Figure` built without pyplot, at most a page (7.5 inches) wide, with
constrained layout, and raises :class:`mnist_lib.errors.InputError` for input it cannot draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from mnist_lib.errors import InputError
from mnist_lib.plots import (
    DIGIT_CMAP,
    HIGHLIGHT_COLOR,
    PAGE_WIDTH,
    _as_image,
    _as_images,
    _hide_frame,
    _pixel_max,
)

__all__ = [
    "FEATURE_CMAP",
    "FILTER_CMAP",
    "plot_conv_filters",
    "plot_error_examples",
    "plot_feature_maps",
]

FILTER_CMAP = "RdBu_r"
"""Filters and signed maps: red positive, blue negative, white 0 (the scale is centred on 0)."""

FEATURE_CMAP = "magma_r"
"""Maps of non-negative values (after ReLU): pale yellow where a channel is silent (0), dark
purple where it responds strongly. Not grey, so that a map is never mistaken for a digit."""

MAX_PANELS = 64
"""More small panels than this do not fit a page legibly."""

RIGHT_MARK = "\N{CHECK MARK}"
WRONG_MARK = "\N{BALLOT X}"


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _finite_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a non-empty float array of finite numbers, or an InputError."""
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{name} must hold numbers; got dtype {arr.dtype}.")
    if arr.size == 0:
        raise InputError(f"{name} is empty: there is nothing to draw.")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} holds NaN or infinite values; they cannot be drawn.")
    return arr


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _filters(kernel: Any) -> np.ndarray:
    """A first-layer kernel as an (h, w, n) stack of n filters.

    Keras stores a Conv2D kernel as (height, width, input channels, filters); a filter that reads
    one channel (a grey image) is a small image itself. (h, w, n) is taken as it is.
    """
    arr = _finite_array(kernel, "kernel")
    if arr.ndim == 4:
        if arr.shape[2] != 1:
            raise InputError(
                f"kernel has {arr.shape[2]} input channels (shape {arr.shape}); only filters "
                "that read one channel, such as the first layer's on a grey image, are small "
                "images. Pass kernel[:, :, c, :] to draw the part that reads channel c."
            )
        arr = arr[:, :, 0, :]
    if arr.ndim != 3:
        raise InputError(
            "kernel must have shape (height, width, 1, filters), as Keras stores a first "
            f"convolution layer's kernel, or (height, width, filters); got {arr.shape}."
        )
    return arr


def _symmetric_norm(values: np.ndarray) -> Normalize:
    """A colour scale centred on 0: the same colour strength for +a and -a."""
    top = float(np.abs(values).max()) or 1.0
    return Normalize(vmin=-top, vmax=top)


def _channels(channels: Sequence[int] | None, count: int) -> list[int]:
    if channels is None:
        chosen = list(range(min(count, MAX_PANELS)))
    else:
        chosen = list(channels)
        for channel in chosen:
            if isinstance(channel, bool) or not isinstance(channel, int | np.integer):
                raise InputError(f"channels must be channel numbers; got {channel!r}.")
        chosen = [int(channel) for channel in chosen]
    if not chosen:
        raise InputError("channels is empty: name at least one channel to draw.")
    outside = [c for c in chosen if not 0 <= c < count]
    if outside:
        raise InputError(
            f"channel {outside[0]} does not exist: the maps have {count} channels, "
            f"0 to {count - 1}."
        )
    if len(set(chosen)) != len(chosen):
        raise InputError(f"channels names a channel twice; got {list(chosen)}.")
    if len(chosen) > MAX_PANELS:
        raise InputError(
            f"at most {MAX_PANELS} channels fit on a page; got {len(chosen)}. Choose some."
        )
    return chosen


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------


def plot_conv_filters(
    kernel: Any,
    *,
    columns: int = 8,
    title: str | None = "The learned filters of the first convolution layer",
) -> Figure:
    """Every filter of a convolution layer that reads one channel, as a small image.

    ``kernel`` is the layer's kernel as Keras stores it, (height, width, 1, filters), or
    (height, width, filters). All filters share one colour scale centred on 0, so that their
    strengths can be compared: red weights make the output larger where the image has ink, blue
    ones smaller. Each panel is numbered with its filter (its channel in the layer's output).
    """
    filters = _filters(kernel)
    columns = _positive_int(columns, "columns")
    height, width, count = filters.shape
    if count > MAX_PANELS:
        raise InputError(f"at most {MAX_PANELS} filters fit on a page; got {count}.")
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    cell = min((PAGE_WIDTH - 1.1) / cols, 0.85)
    fig = Figure(
        figsize=(round(max(cell * cols + 1.1, 4.0), 2), round(rows * (cell + 0.2) + 0.6, 2)),
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.04)
    axes = fig.subplots(rows, cols, squeeze=False)
    norm = _symmetric_norm(filters)
    image = None
    for index, ax in enumerate(axes.flat):
        if index >= count:
            ax.set_axis_off()
            continue
        image = ax.imshow(
            filters[:, :, index], cmap=FILTER_CMAP, norm=norm, interpolation="nearest"
        )
        _frame(ax)
        ax.set_title(str(index), fontsize=8, pad=2)
    colorbar = fig.colorbar(image, ax=axes, shrink=min(0.9, 2.0 / rows + 0.4), pad=0.02)
    colorbar.set_label("weight", fontsize=9)
    colorbar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(f"{title}\n({count} filters of {height} × {width} weights)", fontsize=11)  # noqa: RUF001
    return fig


# --------------------------------------------------------------------------------------------------
# Feature maps
# --------------------------------------------------------------------------------------------------


def plot_feature_maps(
    maps: Any,
    *,
    channels: Sequence[int] | None = None,
    image: Any = None,
    kernel: Any = None,
    labels: Sequence[str] | None = None,
    columns: int = 8,
    title: str | None = None,
    colorbar_label: str = "output value",
) -> Figure:
    """The maps one layer computes for one image, one panel per channel, on one colour scale.

    ``maps`` is one image's layer output, (height, width, channels), as
    :func:`mnist_lib.models.layer_outputs` gives it (a leading batch axis of 1 is dropped).
    ``channels`` picks which channels to draw, in that order (default: all, up to 64). Maps that
    are never negative (after ReLU) are drawn from pale (0, the channel is silent) to dark (a
    strong response); maps with negative values on a blue-white-red scale centred on 0. One
    scale for all panels shows which channels respond strongly and which hardly at all.

    ``image`` (a 28 x 28 digit) is drawn first, as the input the maps were computed from.
    ``kernel`` (the first layer's kernel, as for :func:`plot_conv_filters`) draws, above each
    map, the filter that computed it: what a filter looks like next to where it responds.
    ``labels`` names the drawn channels (default: their numbers).
    """
    arr = _finite_array(maps, "maps")
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3:
        raise InputError(
            "maps must be one image's feature maps, shape (height, width, channels); got "
            f"{arr.shape}. For a batch from layer_outputs, pass outputs[name][0]."
        )
    columns = _positive_int(columns, "columns")
    chosen = _channels(channels, arr.shape[2])
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(chosen):
            raise InputError(
                f"labels must name each of the {len(chosen)} channels drawn; got {len(labels)}."
            )
    digit = _as_image(image) if image is not None else None
    filters = None
    if kernel is not None:
        filters = _filters(kernel)
        if filters.shape[2] != arr.shape[2]:
            raise InputError(
                f"kernel has {filters.shape[2]} filters but maps has {arr.shape[2]} channels; "
                "pass the kernel of the layer that computed the maps."
            )
    shown = arr[:, :, chosen]
    if shown.min() < 0:
        norm = _symmetric_norm(shown)
        cmap = FILTER_CMAP
    else:
        norm = Normalize(vmin=0.0, vmax=float(shown.max()) or 1.0)
        cmap = FEATURE_CMAP

    lead = 1 if digit is not None else 0  # the input digit takes the first column
    cols = min(columns, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    cell = min((PAGE_WIDTH - 1.2) / (cols + lead), 1.0)
    filter_share = 0.45 if filters is not None else 0.0  # a filter row is this high per map
    height = rows * cell * (1 + filter_share) + rows * 0.2 * (1 + bool(filters is not None))
    fig = Figure(
        figsize=(round(max(cell * (cols + lead) + 1.2, 4.5), 2), round(height + 0.75, 2)),
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    if digit is not None:
        left, right = fig.subfigures(1, 2, width_ratios=[1, cols], wspace=0.02)
        _draw_input(left, digit)
    else:
        right = fig
    if filters is not None:
        axes = right.subplots(2 * rows, cols, squeeze=False, height_ratios=[filter_share, 1] * rows)
        filter_axes, map_axes = axes[0::2], axes[1::2]
        filter_norm = _symmetric_norm(filters)
    else:
        filter_axes, map_axes = None, right.subplots(rows, cols, squeeze=False)
    mapped = None
    for position, ax in enumerate(map_axes.flat):
        row, col = divmod(position, cols)
        over = filter_axes[row, col] if filter_axes is not None else None
        if position >= len(chosen):
            ax.set_axis_off()
            if over is not None:
                over.set_axis_off()
            continue
        channel = chosen[position]
        mapped = ax.imshow(shown[:, :, position], cmap=cmap, norm=norm, interpolation="nearest")
        _frame(ax)
        if labels is not None:
            label = labels[position]
        else:
            label = f"channel {channel}" if cols <= 6 else str(channel)
        if over is not None:
            over.imshow(
                filters[:, :, channel], cmap=FILTER_CMAP, norm=filter_norm, interpolation="nearest"
            )
            _frame(over)
            over.set_title(label, fontsize=8, pad=2)
        else:
            ax.set_title(label, fontsize=8, pad=2)
    colorbar = right.colorbar(mapped, ax=map_axes, shrink=min(0.9, 1.6 / rows + 0.3), pad=0.02)
    colorbar.set_label(colorbar_label, fontsize=9)
    colorbar.ax.tick_params(labelsize=8)
    size = f"{arr.shape[0]} × {arr.shape[1]}"  # noqa: RUF001
    heading = title or "Feature maps"
    count = str(arr.shape[2])
    if len(chosen) < arr.shape[2]:
        count = f"{len(chosen)} of {count}"
    heading += f"\n({count} channels, each {size}"
    heading += "; above each map, its filter)" if filters is not None else ")"
    fig.suptitle(heading, fontsize=11)
    return fig


def _frame(ax: Axes) -> None:
    """No ticks; a thin grey frame, so that a pale map or a white filter still shows its extent."""
    _hide_frame(ax)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor("0.7")
        spine.set_linewidth(0.6)


def _draw_input(panel: Any, digit: np.ndarray) -> None:
    (ax,) = panel.subplots(1, 1, squeeze=False)[0]
    ax.imshow(digit, cmap=DIGIT_CMAP, vmin=0, vmax=_pixel_max(digit), interpolation="nearest")
    _frame(ax)
    ax.set_title("input", fontsize=9, pad=3)


# --------------------------------------------------------------------------------------------------
# Several models' answers
# --------------------------------------------------------------------------------------------------


def plot_error_examples(
    images: Any,
    labels: Any,
    predictions: Mapping[str, Any],
    indices: Sequence[int],
    *,
    columns: int = 8,
    title: str | None = None,
) -> Figure:
    """Digits with their true label and each model's answer; wrong answers in red with a cross.

    ``images`` and ``labels`` are a whole set (e.g. the test set), ``predictions`` maps a short
    model name to its predicted digit for every image of that set (``ModelSummary.
    test_predictions``), in the order the lines are written, and ``indices`` picks the images
    to draw, in order. Drawn together, the answers show at a glance which mistakes one model
    fixes and which both make.
    """
    imgs = _as_images(images)
    labs = np.asarray(labels)
    if labs.ndim != 1 or labs.dtype.kind not in "iu":
        raise InputError(f"labels must be a 1-D array of digits; got shape {labs.shape}.")
    if len(labs) != len(imgs):
        raise InputError(f"images has {len(imgs)} entries but labels has {len(labs)}.")
    if not isinstance(predictions, Mapping) or not predictions:
        raise InputError("predictions must map at least one model name to its predictions.")
    if len(predictions) > 3:
        raise InputError(f"at most 3 models fit under each digit; got {len(predictions)}.")
    answers = {}
    for name, values in predictions.items():
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.dtype.kind not in "iu" or len(arr) != len(labs):
            raise InputError(
                f"predictions[{name!r}] must hold one predicted digit per image ({len(labs)}); "
                f"got shape {arr.shape}."
            )
        answers[str(name)] = arr
    columns = _positive_int(columns, "columns")
    try:
        chosen = [int(i) for i in indices]
    except (TypeError, ValueError):
        raise InputError(f"indices must be image positions; got {indices!r}.") from None
    outside = [i for i in chosen if not 0 <= i < len(imgs)]
    if outside:
        raise InputError(f"index {outside[0]} is outside the {len(imgs)} images.")
    if len(chosen) > MAX_PANELS:
        raise InputError(f"at most {MAX_PANELS} images fit on a page; got {len(chosen)}.")
    if not chosen:
        fig = Figure(figsize=(PAGE_WIDTH, 1.2), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No images to show.", ha="center", va="center", fontsize=11)
        if title:
            ax.set_title(title)
        return fig

    vmax = _pixel_max(imgs)
    cols = min(columns, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    lines = 1 + len(answers)
    cell = min(PAGE_WIDTH / cols, 1.0)
    fig = Figure(
        figsize=(
            round(max(cell * cols, 4.6), 2),
            round(rows * (0.88 * cell + 0.15 * lines) + 0.6, 2),
        ),
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.03)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(chosen) :]:
        ax.set_axis_off()
    for ax, index in zip(axes.flat, chosen, strict=False):
        ax.imshow(imgs[index], cmap=DIGIT_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
        _hide_frame(ax)
        true = int(labs[index])
        texts = [(f"true {true}", "black", "normal")]
        for name, predicted in answers.items():
            answer = int(predicted[index])
            if answer == true:
                texts.append((f"{name} {answer} {RIGHT_MARK}", "black", "normal"))
            else:
                texts.append((f"{name} {answer} {WRONG_MARK}", HIGHLIGHT_COLOR, "bold"))
        for line, (text, color, weight) in enumerate(reversed(texts)):
            ax.annotate(
                text,
                (0.5, 1.0),
                xycoords="axes fraction",
                xytext=(0, 2 + 10 * line),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                color=color,
                fontweight=weight,
            )
    heading = title or "Test digits and each model's answer"
    fig.suptitle(
        f"{heading}\n(red {WRONG_MARK}: a wrong answer, {RIGHT_MARK}: a right one)", fontsize=11
    )
    return fig
