"""Tests of mnist_lib.plots_compare: the figures that compare training runs.

Synthetic inputs only (made-up grids, histories and summaries): no training, no data set.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text, assert_not_in_pyplot
from matplotlib.patches import Rectangle

from mnist_lib.compare import ModelSummary
from mnist_lib.errors import InputError
from mnist_lib.plots_compare import (
    plot_activation_functions,
    plot_grid_heatmap,
    plot_model_comparison,
    plot_run_curves,
)
from mnist_lib.train import SEED_RECIPE

GRID = np.array([[0.9782, 0.9701, 0.9650], [0.9100, 0.9815, 0.9777]])
ROWS = ["ReLU", "sigmoid"]
COLS = ["Adam", "SGD", "RMSprop"]

HISTORIES = {
    "fast": {"val_loss": [0.20, 0.12, 0.10], "val_accuracy": [0.94, 0.965, 0.972]},
    "slow": {"val_loss": [0.60, 0.30, 0.20], "val_accuracy": [0.85, 0.92, 0.95]},
}


def _summary(name: str, errors: int, *, parameters: int = 111_146, seconds: float = 21.0):
    """A ModelSummary of a made-up model with ``errors`` mistakes on 10,000 test images."""
    predictions = np.zeros(10_000, dtype=np.int64)
    return ModelSummary(
        name=name,
        config=SEED_RECIPE,
        parameters=parameters,
        train_seconds=seconds,
        epochs_run=10,
        best_epoch=10,
        val_accuracy=0.97,
        test_accuracy=1 - errors / 10_000,
        test_loss=0.09,
        test_errors=errors,
        test_predictions=predictions,
        error_indices=np.arange(errors),
    )


def _cell_texts(fig) -> dict[tuple[int, int], tuple[str, str]]:
    """The text written in each heatmap cell, by (row, column), with its colour."""
    ax = fig.axes[0]
    return {
        (round(t.get_position()[1]), round(t.get_position()[0])): (t.get_text(), t.get_color())
        for t in ax.texts
    }


# --------------------------------------------------------------------------------------------------
# Every figure: outside pyplot, a page wide at most, nothing clipped


@pytest.mark.parametrize(
    "make",
    [
        lambda: plot_grid_heatmap(GRID, ROWS, COLS, title="t", row_title="r", col_title="c"),
        lambda: plot_run_curves(HISTORIES),
        lambda: plot_run_curves(HISTORIES, "val_accuracy"),
        lambda: plot_model_comparison([_summary("MLP", 218), _summary("CNN", 90, seconds=400)]),
        lambda: plot_activation_functions(),
    ],
    ids=["heatmap", "curves", "one-curve", "models", "activations"],
)
def test_figures_bypass_pyplot_and_fit_the_page(make) -> None:
    fig = assert_not_in_pyplot(make)
    assert fig.get_figwidth() <= 7.5
    assert_no_clipped_text(fig)


# --------------------------------------------------------------------------------------------------
# plot_grid_heatmap


def test_heatmap_writes_every_value_and_labels_rows_and_columns() -> None:
    fig = plot_grid_heatmap(GRID, ROWS, COLS, title="Test accuracy", colorbar_label="accuracy")
    cells = _cell_texts(fig)
    assert len(cells) == GRID.size
    assert cells[(0, 0)][0] == "97.82%"
    assert cells[(1, 0)][0] == "91.00%"
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ROWS
    assert [t.get_text() for t in ax.get_xticklabels()] == COLS
    text = all_text(fig)
    assert "Test accuracy" in text and "accuracy" in text
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    assert any(label.endswith("%") for label in text if label not in cells.values())


def test_heatmap_text_is_white_on_dark_cells_and_black_on_light_ones() -> None:
    fig = plot_grid_heatmap(GRID, ROWS, COLS, cmap="viridis")
    cells = _cell_texts(fig)
    # viridis: the lowest value is dark purple, the highest bright yellow
    assert mcolors.to_hex(cells[(1, 0)][1]) == "#ffffff"
    assert mcolors.to_hex(cells[(1, 1)][1]) == "#000000"


def test_heatmap_annotations_replace_the_formatted_values() -> None:
    notes = [[f"{v:.1%}\n{round((1 - v) * 10_000)} errors" for v in row] for row in GRID]
    fig = plot_grid_heatmap(GRID, ROWS, COLS, annotations=notes)
    assert _cell_texts(fig)[(0, 0)][0] == "97.8%\n218 errors"


def test_heatmap_value_format_writes_cells_and_colorbar() -> None:
    fig = plot_grid_heatmap([[1.0, 2.5], [4.0, 3.0]], ["a", "b"], ["x", "y"], value_format="{:.1f}")
    assert _cell_texts(fig)[(0, 1)][0] == "2.5"
    colorbar_ticks = [t.get_text() for t in fig.axes[1].get_yticklabels() if t.get_text()]
    assert colorbar_ticks and all("." in t and "%" not in t for t in colorbar_ticks)


def test_heatmap_marks_missing_cells_and_frames_the_highlight() -> None:
    grid = GRID.copy()
    grid[0, 2] = np.nan
    fig = plot_grid_heatmap(grid, ROWS, COLS, highlight=(1, 2))
    assert _cell_texts(fig)[(0, 2)][0] == "no run"
    frames = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(frames) == 1 and frames[0].get_xy() == (1.5, 0.5)


def test_heatmap_of_a_single_value_draws() -> None:
    fig = plot_grid_heatmap([[0.5]], ["only"], ["one"])
    assert _cell_texts(fig)[(0, 0)][0] == "50.00%"


@pytest.mark.parametrize(
    ("values", "rows", "cols", "kwargs", "message"),
    [
        ([], [], [], {}, "non-empty 2-D"),
        ([1.0, 2.0], ["a"], ["x", "y"], {}, "2-D"),
        ([["a", "b"]], ["a"], ["x", "y"], {}, "numbers"),
        ([[np.inf, 1.0]], ["a"], ["x", "y"], {}, "finite"),
        ([[np.nan, np.nan]], ["a"], ["x", "y"], {}, "no result"),
        (GRID, ["only one"], COLS, {}, "row_labels must name each of the 2 rows"),
        (GRID, ROWS, ["x"], {}, "col_labels must name each of the 3 columns"),
        (GRID, ROWS, COLS, {"annotations": [["a"]]}, r"shape of values, \(2, 3\)"),
        (GRID, ROWS, COLS, {"highlight": (2, 0)}, "outside the 2 x 3 grid"),
        (GRID, ROWS, COLS, {"highlight": "A1"}, "pair"),
        (GRID, ROWS, COLS, {"value_format": "{:d}"}, "value_format"),
    ],
)
def test_heatmap_rejects_bad_input(values, rows, cols, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_grid_heatmap(values, rows, cols, **kwargs)


# --------------------------------------------------------------------------------------------------
# plot_run_curves


def test_run_curves_draw_one_line_per_run_and_panel() -> None:
    fig = plot_run_curves(HISTORIES, ("val_loss", "val_accuracy"), title="Two runs")
    loss_ax, acc_ax = fig.axes
    for ax, metric in ((loss_ax, "val_loss"), (acc_ax, "val_accuracy")):
        lines = [line for line in ax.get_lines() if line.get_label() in HISTORIES]
        assert [line.get_label() for line in lines] == ["fast", "slow"]
        for line in lines:
            np.testing.assert_allclose(line.get_ydata(), HISTORIES[line.get_label()][metric])
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    # a run keeps its colour in both panels
    assert loss_ax.get_lines()[0].get_color() == acc_ax.get_lines()[0].get_color()
    text = all_text(fig)
    assert {"Validation loss", "Validation accuracy", "Two runs", "fast", "slow"} <= set(text)
    assert any(t.endswith("%") for t in (x.get_text() for x in acc_ax.get_yticklabels()))
    assert len(fig.legends) == 1


def test_run_curves_take_one_metric_and_runs_of_different_lengths() -> None:
    histories = {"long": {"loss": [0.5, 0.3, 0.2, 0.1]}, "stopped early": {"loss": [0.6, 0.4]}}
    fig = plot_run_curves(histories, "loss", log_loss=True)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0.1" in ticks and "0.2" in ticks  # plain numbers, not powers of ten
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [4, 2]
    assert ax.get_xlim() == (0.5, 4.5)
    assert "training loss" in all_text(fig)


def test_run_curves_take_keras_history_objects() -> None:
    class History:
        history = HISTORIES["fast"]

    fig = plot_run_curves({"keras": History()}, "val_accuracy")
    assert len(fig.axes[0].get_lines()) == 1


@pytest.mark.parametrize(
    ("histories", "metrics", "message"),
    [
        ({}, "val_loss", "at least one run"),
        ([("a", {})], "val_loss", "at least one run"),
        (HISTORIES, (), "at least one metric"),
        (HISTORIES, "val_auc", "run 'fast' has no 'val_auc'"),
        ({"a": [0.1, 0.2]}, "loss", "history of run 'a' must be a dict"),
        ({"a": {"loss": []}}, "loss", "non-empty"),
        ({"a": {"loss": [[0.1], [0.2]]}}, "loss", "non-empty list of finite numbers"),
        ({"a": {"loss": ["x"]}}, "loss", "list of numbers"),
    ],
)
def test_run_curves_reject_bad_input(histories, metrics, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_run_curves(histories, metrics)


# --------------------------------------------------------------------------------------------------
# plot_model_comparison


def test_model_comparison_labels_every_model_with_errors_and_costs() -> None:
    summaries = [
        _summary("MLP", 218),
        _summary("CNN", 91, parameters=225_034, seconds=375),
    ]
    fig = plot_model_comparison(summaries, highlight="MLP")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MLP", "CNN"]
    bars = ax.patches
    assert [bar.get_width() for bar in bars] == [218, 91]
    assert bars[0].get_facecolor() != bars[1].get_facecolor()  # the highlighted one
    text = all_text(fig)
    assert "218  (97.82%)" in text and "91  (99.09%)" in text
    assert "111,146 params · 21 s" in text and "225,034 params · 6 min 15 s" in text
    assert "test errors (of 10,000 images)" in text


def test_model_comparison_whiskers_span_two_standard_errors() -> None:
    fig = plot_model_comparison(
        [_summary("MLP", 218), _summary("CNN", 100)], intervals=True, show_costs=False
    )
    ax = fig.axes[0]
    (bars,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    half_widths = [abs(seg[1][0] - seg[0][0]) / 2 for seg in bars.get_segments()]
    # 2 sqrt(n a (1 - a)): 2 sqrt(10,000 x 0.9782 x 0.0218) = 29.2 images
    assert half_widths == pytest.approx([29.2, 19.9], abs=0.05)
    assert "params" not in " ".join(all_text(fig))
    assert any("2 standard errors" in t for t in all_text(fig))
    assert len(fig.axes) == 1  # no second axis for the costs
    assert_no_clipped_text(fig)


def test_model_comparison_can_leave_out_times() -> None:
    fig = plot_model_comparison([_summary("MLP", 218)], show_time=False, title=None)
    assert "111,146 params" in all_text(fig)
    assert not any(" s" in t and "params" in t for t in all_text(fig))


@pytest.mark.parametrize(
    ("summaries", "kwargs", "message"),
    [
        ([], {}, "at least one"),
        (["MLP"], {}, "ModelSummary records"),
        ([_summary("MLP", 1), _summary("MLP", 2)], {}, "repeated: MLP"),
        ([_summary("MLP", 1)], {"highlight": "CNN"}, "names no model"),
    ],
)
def test_model_comparison_rejects_bad_input(summaries, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_model_comparison(summaries, **kwargs)


def test_model_comparison_needs_one_test_set() -> None:
    other = _summary("CNN", 5)
    other = ModelSummary(**{**other.__dict__, "test_predictions": np.zeros(100)})
    with pytest.raises(InputError, match="same test set"):
        plot_model_comparison([_summary("MLP", 1), other])


# --------------------------------------------------------------------------------------------------
# plot_activation_functions


def test_activation_functions_draw_each_function_and_its_slope() -> None:
    fig = plot_activation_functions(("sigmoid", "tanh", "gelu"))
    ax_f, ax_d = fig.axes
    lines = {line.get_label(): line for line in ax_f.get_lines() if line.get_label()[0] != "_"}
    slopes = {line.get_label(): line for line in ax_d.get_lines() if line.get_label()[0] != "_"}
    assert list(lines) == list(slopes) == ["sigmoid", "tanh", "GELU"]

    def at(line, z: float) -> float:
        return float(np.interp(z, line.get_xdata(), line.get_ydata()))

    assert at(lines["sigmoid"], 0.0) == pytest.approx(0.5)
    assert at(slopes["sigmoid"], 0.0) == pytest.approx(0.25)
    assert at(lines["tanh"], 0.0) == pytest.approx(0.0, abs=1e-9)
    assert at(slopes["tanh"], 0.0) == pytest.approx(1.0)
    # GELU(z) = z * Phi(z): Phi(1) = 0.8413
    assert at(lines["GELU"], 1.0) == pytest.approx(0.8413, abs=1e-3)
    assert at(slopes["GELU"], 0.0) == pytest.approx(0.5)


def test_activation_functions_draw_relu_slope_without_the_jump() -> None:
    fig = plot_activation_functions(("relu",))
    pieces = fig.axes[1].get_lines()[:2]
    assert set(pieces[0].get_ydata()) == {0.0} and set(pieces[1].get_ydata()) == {1.0}


@pytest.mark.parametrize(
    ("names", "kwargs", "message"),
    [
        ((), {}, "at least one"),
        (("relu", "swish"), {}, "cannot draw 'swish'"),
        (("relu",), {"z_min": 1.0}, "z_min < 0 < z_max"),
        (("relu",), {"z_max": float("nan")}, "z_min < 0 < z_max"),
    ],
)
def test_activation_functions_reject_bad_input(names, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_activation_functions(names, **kwargs)
