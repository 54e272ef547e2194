"""Tests of mnist_lib.plots_regularization: the regularization chapter's figures.

Synthetic inputs only (made-up digits, histories and summaries): no training, no data set.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text, assert_not_in_pyplot
from matplotlib.container import ErrorbarContainer

from mnist_lib.compare import ModelSummary
from mnist_lib.errors import InputError
from mnist_lib.plots_regularization import (
    BASELINE_COLOR,
    plot_augmentation_examples,
    plot_regularization_effects,
    plot_runs_against_baseline,
)
from mnist_lib.train import SEED_RECIPE


def _digits(n: int) -> np.ndarray:
    """``n`` made-up scaled digits: a bar of ink at a different row in each."""
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for i in range(n):
        images[i, 5 + i, 6:22] = 1.0
    return images


IMAGES = _digits(3)
VARIANTS = np.stack([np.roll(IMAGES, shift, axis=2) for shift in (-2, 1, 2, 0)], axis=1)

EPOCHS = np.arange(20)
HISTORIES = {
    "baseline": {
        "loss": list(0.5 * 0.8**EPOCHS),
        "val_loss": list(0.09 + 0.001 * (EPOCHS - 5) ** 2),
    },
    "dropout": {"loss": list(0.5 * 0.9**EPOCHS), "val_loss": list(0.08 + 0.0002 * EPOCHS)},
    "stopped": {"loss": list(0.5 * 0.8 ** EPOCHS[:8]), "val_loss": [0.2, 0.1, 0.09] + [0.1] * 5},
}


def _summary(
    name: str, errors: int, val_accuracy: float | None = 0.975, loss: float = 0.1
) -> ModelSummary:
    """A ModelSummary of a made-up model with ``errors`` mistakes on 10,000 test images."""
    return ModelSummary(
        name=name,
        config=SEED_RECIPE,
        parameters=111_146,
        train_seconds=30.0,
        epochs_run=20,
        best_epoch=20,
        val_accuracy=val_accuracy,
        test_accuracy=1 - errors / 10_000,
        test_loss=loss,
        test_errors=errors,
        test_predictions=np.zeros(10_000, dtype=np.int64),
        error_indices=np.arange(errors),
    )


SUMMARIES = [
    _summary("baseline", 220),
    _summary("dropout", 190, loss=0.09),
    _summary("L2", 230, loss=0.08),
]
TRAIN_ACCURACIES = {"baseline": 0.998, "dropout": 0.99, "L2": 0.985}


# --------------------------------------------------------------------------------------------------
# Every figure: outside pyplot, a page wide at most, nothing clipped


@pytest.mark.parametrize(
    "make",
    [
        lambda: plot_augmentation_examples(IMAGES, VARIANTS, [1, 2, 3]),
        lambda: plot_augmentation_examples(IMAGES[:1], VARIANTS[:1, :1]),
        lambda: plot_runs_against_baseline(HISTORIES, "baseline", kept_epochs={"stopped": 3}),
        lambda: plot_runs_against_baseline(HISTORIES, "baseline", columns=1, y_max=0.2),
        lambda: plot_runs_against_baseline(HISTORIES, "baseline", log_scale=True),
        lambda: plot_regularization_effects(SUMMARIES, TRAIN_ACCURACIES),
    ],
    ids=["augmentation", "one-variant", "curves", "one-column", "log-scale", "effects"],
)
def test_figures_bypass_pyplot_and_fit_the_page(make) -> None:
    fig = assert_not_in_pyplot(make)
    assert fig.get_figwidth() <= 7.5
    assert_no_clipped_text(fig)


# --------------------------------------------------------------------------------------------------
# plot_augmentation_examples


def test_augmentation_draws_each_original_then_its_variants_in_order() -> None:
    fig = plot_augmentation_examples(IMAGES, VARIANTS, [7, 8, 9])
    left, right = fig.subfigs
    originals = [ax.images[0].get_array() for ax in left.axes]
    assert len(originals) == 3
    for i, drawn in enumerate(originals):
        np.testing.assert_array_equal(drawn, IMAGES[i])
    assert len(right.axes) == 3 * 4
    for index, ax in enumerate(right.axes):  # row by row
        np.testing.assert_array_equal(ax.images[0].get_array(), VARIANTS[index // 4, index % 4])
    assert [ax.get_ylabel() for ax in left.axes] == ["7", "8", "9"]
    text = all_text(fig)
    assert "original" in text and "random variants" in text


def test_augmentation_guides_are_optional_and_the_title_can_change() -> None:
    with_guides = plot_augmentation_examples(IMAGES, VARIANTS)
    assert all(len(ax.lines) == 2 for ax in with_guides.axes)  # a cross through the centre
    plain = plot_augmentation_examples(IMAGES, VARIANTS, guides=False, variant_title="shifted")
    assert all(not ax.lines for ax in plain.axes)
    assert "shifted" in all_text(plain)


def test_augmentation_accepts_raw_pixels_on_a_raw_grey_scale() -> None:
    raw = (IMAGES * 255).astype(np.uint8)
    fig = plot_augmentation_examples(raw, (VARIANTS * 255).astype(np.uint8))
    assert fig.axes[0].images[0].get_clim() == (0, 255)


@pytest.mark.parametrize(
    ("images", "variants", "labels", "message"),
    [
        (IMAGES, VARIANTS[:, 0], None, r"shape \(N, K, 28, 28\)"),
        (IMAGES, VARIANTS[:2], None, "variants of 2 images but images holds 3"),
        (IMAGES, VARIANTS, [1, 2], "name each of the 3 images"),
        (IMAGES, -VARIANTS - 1, None, "negative"),
        (IMAGES[:, :20], VARIANTS, None, r"\(N, 28, 28\)"),
        (_digits(11), np.zeros((11, 2, 28, 28)), None, "at most 10 images"),
    ],
)
def test_augmentation_rejects_what_it_cannot_draw(images, variants, labels, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_augmentation_examples(images, variants, labels)


# --------------------------------------------------------------------------------------------------
# plot_runs_against_baseline


def test_curves_put_every_run_but_the_baseline_in_its_own_panel_over_the_baseline() -> None:
    fig = plot_runs_against_baseline(HISTORIES, "baseline")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["dropout", "stopped"]
    for ax, run in zip(panels, ("dropout", "stopped"), strict=True):
        grey = [line for line in ax.lines if line.get_color() == BASELINE_COLOR]
        own = [line for line in ax.lines if line.get_color() != BASELINE_COLOR]
        assert len(grey) == len(own) == 2  # training and validation loss of each
        np.testing.assert_allclose(grey[1].get_ydata(), HISTORIES["baseline"]["val_loss"])
        np.testing.assert_allclose(own[0].get_ydata(), HISTORIES[run]["loss"])
        assert [line.get_linestyle() for line in own] == ["-", "--"]
        assert ax.get_yscale() == "linear"
    # the panels share their axes, so they compare across panels
    assert panels[0].get_ylim() == panels[1].get_ylim()
    text = all_text(fig)
    assert {"training loss", "validation loss", "grey: baseline", "loss"} <= set(text)
    assert "colour: the technique" in text


def test_curves_cut_the_axis_at_y_max_or_draw_a_log_scale() -> None:
    cut = plot_runs_against_baseline(HISTORIES, "baseline", y_max=0.2)
    assert all(ax.get_ylim() == (0.0, 0.2) for ax in cut.axes)
    log = plot_runs_against_baseline(HISTORIES, "baseline", log_scale=True, y_max=1.0)
    assert all(ax.get_yscale() == "log" and ax.get_ylim()[1] == 1.0 for ax in log.axes)
    assert "loss (log scale)" in all_text(log)


def test_curves_give_each_run_its_own_colour() -> None:
    fig = plot_runs_against_baseline(HISTORIES, "baseline")
    dropout, stopped = (ax for ax in fig.axes if ax.get_visible())
    assert dropout.title.get_color() != stopped.title.get_color()
    assert mcolors.same_color(dropout.lines[-1].get_color(), dropout.title.get_color())


def test_curves_of_one_run_name_it_in_the_legend() -> None:
    fig = plot_runs_against_baseline(
        {"CNN": HISTORIES["baseline"], "best CNN": HISTORIES["dropout"]}, "CNN", y_max=0.3
    )
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "best CNN"
    text = all_text(fig)
    assert "colour: best CNN" in text and "colour: the technique" not in text
    assert_no_clipped_text(fig)


def test_curves_mark_the_kept_epoch() -> None:
    fig = plot_runs_against_baseline(HISTORIES, "baseline", kept_epochs={"stopped": 3})
    stopped = fig.axes[1]
    markers = [line for line in stopped.lines if line.get_marker() == "o"]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in markers] == [
        (3, HISTORIES["stopped"]["loss"][2]),
        (3, 0.09),
    ]
    assert "the epoch kept" in all_text(fig)
    assert not [line for line in fig.axes[0].lines if line.get_marker() == "o"]


def test_curves_hide_empty_panels_and_label_the_epochs_above_them() -> None:
    runs = {**HISTORIES, "third": HISTORIES["dropout"], "fourth": HISTORIES["dropout"]}
    fig = plot_runs_against_baseline(runs, "baseline", columns=3)
    assert len(fig.axes) == 6 and not fig.axes[5].get_visible()
    assert fig.axes[2].get_xlabel() == "epoch"  # above the empty slot
    assert fig.axes[3].get_xlabel() == fig.axes[4].get_xlabel() == "epoch"


def test_curves_draw_other_metrics_and_linear_scales() -> None:
    histories = {
        run: {"val_accuracy": [0.95, 0.96, 0.97 + i / 1000]} for i, run in enumerate("abc")
    }
    fig = plot_runs_against_baseline(histories, "a", metrics="val_accuracy", ylabel="accuracy")
    assert all(ax.get_yscale() == "linear" for ax in fig.axes)
    assert fig.axes[0].get_ylabel() == "accuracy"
    assert any(label.endswith("%") for label in all_text(fig))


@pytest.mark.parametrize(
    ("histories", "baseline", "kwargs", "message"),
    [
        ({"baseline": HISTORIES["baseline"]}, "baseline", {}, "at least one other run"),
        (HISTORIES, "reference", {}, "baseline 'reference' names no run"),
        (HISTORIES, "baseline", {"metrics": ["accuracy"]}, "has no 'accuracy'"),
        (HISTORIES, "baseline", {"metrics": []}, "metrics must name 1 to 4"),
        (HISTORIES, "baseline", {"columns": 0}, "columns must be a positive integer"),
        (HISTORIES, "baseline", {"kept_epochs": {"other": 2}}, "not one of the runs"),
        (HISTORIES, "baseline", {"kept_epochs": {"stopped": 9}}, "from 1 to 8"),
        (HISTORIES, "baseline", {"y_max": 0}, "y_max must be a positive number"),
        (HISTORIES, "baseline", {"y_max": "0.2"}, "y_max must be a positive number"),
        (
            {**HISTORIES, "zero": {"loss": [0.1, 0.0], "val_loss": [0.1, 0.1]}},
            "baseline",
            {"log_scale": True},
            "logarithmic scale needs positive values",
        ),
        (
            {**HISTORIES, "bad": {"loss": [], "val_loss": []}},
            "baseline",
            {},
            "non-empty list of finite numbers",
        ),
        ({**HISTORIES, "bad": [0.1, 0.2]}, "baseline", {}, "must be a dict of per-epoch values"),
    ],
)
def test_curves_reject_what_they_cannot_draw(histories, baseline, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_runs_against_baseline(histories, baseline, **kwargs)


# --------------------------------------------------------------------------------------------------
# plot_regularization_effects


def test_effects_draw_accuracy_with_two_standard_errors_and_the_gap() -> None:
    fig = plot_regularization_effects(SUMMARIES, TRAIN_ACCURACIES)
    ax_acc, ax_loss, ax_gap = fig.axes
    assert [t.get_text() for t in ax_acc.get_yticklabels()] == ["baseline", "dropout", "L2"]
    dots = [c for c in ax_acc.containers if isinstance(c, ErrorbarContainer)]
    assert [float(c.lines[0].get_xdata()[0]) for c in dots] == pytest.approx([0.978, 0.981, 0.977])
    # whiskers: 2 sqrt(a (1 - a) / n)
    segment = dots[0].lines[2][0].get_segments()[0]
    assert segment[1][0] - segment[0][0] == pytest.approx(4 * np.sqrt(0.978 * 0.022 / 10_000))
    widths = [bar.get_width() for bar in ax_gap.patches]
    assert widths == pytest.approx([2.3, 1.5, 1.0])
    assert [bar.get_width() for bar in ax_loss.patches] == pytest.approx([0.1, 0.09, 0.08])
    text = all_text(fig)
    assert {"97.80%", "98.10%", "97.70%", "2.30", "1.50", "1.00", "0.090"} <= set(text)
    assert {"Test accuracy", "Test loss", "Overfitting gap"} <= set(text)


def test_effects_can_leave_out_the_loss() -> None:
    fig = plot_regularization_effects(SUMMARIES, TRAIN_ACCURACIES, show_loss=False)
    assert len(fig.axes) == 2
    assert "Test loss" not in all_text(fig)


def test_effects_draw_the_baseline_in_grey_and_each_run_in_its_colour() -> None:
    fig = plot_regularization_effects(SUMMARIES, TRAIN_ACCURACIES, baseline="dropout")
    bars = fig.axes[2].patches
    assert mcolors.same_color(bars[1].get_facecolor(), BASELINE_COLOR)
    assert not mcolors.same_color(bars[0].get_facecolor(), BASELINE_COLOR)
    assert not mcolors.same_color(bars[0].get_facecolor(), bars[2].get_facecolor())


def test_effects_and_curves_agree_on_colours() -> None:
    histories = {s.name: HISTORIES["dropout"] for s in SUMMARIES}
    curves = plot_runs_against_baseline(histories, "baseline")
    effects = plot_regularization_effects(SUMMARIES, TRAIN_ACCURACIES)
    for ax, bar in zip(curves.axes, effects.axes[2].patches[1:], strict=True):
        assert mcolors.same_color(ax.title.get_color(), bar.get_facecolor())


@pytest.mark.parametrize(
    ("summaries", "train", "kwargs", "message"),
    [
        ([], TRAIN_ACCURACIES, {}, "at least one ModelSummary"),
        (["baseline"], TRAIN_ACCURACIES, {}, "ModelSummary records"),
        (SUMMARIES + SUMMARIES[:1], TRAIN_ACCURACIES, {}, "repeated: baseline"),
        (SUMMARIES, TRAIN_ACCURACIES, {"baseline": "none"}, "baseline 'none' names no run"),
        (SUMMARIES, {"baseline": 0.99}, {}, "no entry for run 'dropout'"),
        (SUMMARIES, {**TRAIN_ACCURACIES, "L2": 98.5}, {}, "fraction from 0 to 1"),
        ([_summary("x", 10, None)], {"x": 0.9}, {}, "no validation accuracy"),
    ],
)
def test_effects_reject_what_they_cannot_draw(summaries, train, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_regularization_effects(summaries, train, **kwargs)


def test_effects_need_one_test_set() -> None:
    other = _summary("other", 10)
    other = ModelSummary(**{**other.__dict__, "test_predictions": np.zeros(5_000)})
    with pytest.raises(InputError, match="same test set"):
        plot_regularization_effects([SUMMARIES[0], other], {**TRAIN_ACCURACIES, "other": 0.9})
