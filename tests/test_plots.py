"""Tests of mnist_lib.plots: each figure has the expected parts, the right numbers, and no clipping.

The images are synthetic (a random bright block on a blank background): no data set needed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from mnist_lib.errors import InputError
from mnist_lib.evaluate import Mistake, confusion_matrix
from mnist_lib.plots import (
    plot_class_distribution,
    plot_confused_pairs,
    plot_confusion_matrix,
    plot_digit,
    plot_digit_grid,
    plot_mistakes,
    plot_pixel_histogram,
    plot_training_curves,
)

HISTORY = {
    "loss": [0.42, 0.19, 0.14, 0.11],
    "accuracy": [0.88, 0.94, 0.96, 0.97],
    "val_loss": [0.22, 0.16, 0.13, 0.12],
    "val_accuracy": [0.93, 0.95, 0.96, 0.965],
}


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """60 uint8 'digits': a blank 28 x 28 background with one random bright block each."""
    rng = np.random.default_rng(0)
    out = np.zeros((60, 28, 28), dtype=np.uint8)
    for img in out:
        r, c = rng.integers(4, 18, size=2)
        img[r : r + 6, c : c + 4] = rng.integers(1, 256, size=(6, 4))
    return out


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return np.arange(60) % 10


def assert_titles_do_not_overlap(fig: Figure) -> None:
    """No two titles (figure heading, panel titles) share any space."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    titles = [ax.title for ax in fig.axes if ax.get_title()]
    if fig.get_suptitle():
        titles.append(fig._suptitle)
    boxes = [t.get_window_extent(renderer) for t in titles]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not a.overlaps(boxes[j]), (titles[i].get_text(), titles[j].get_text())


def axes_texts(ax) -> list[Text]:
    return [t for t in ax.texts if t.get_text()]


# --------------------------------------------------------------------------------------------------
# Figures bypass pyplot
# --------------------------------------------------------------------------------------------------


def test_figures_are_not_registered_with_pyplot(images):
    """A notebook then shows each returned figure once, not again at the end of the cell."""
    before = plt.get_fignums()
    fig = plot_digit(images[0])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------------------------------
# plot_digit
# --------------------------------------------------------------------------------------------------


def test_plot_digit_title_and_axes(images):
    fig = plot_digit(images[0], 7)
    (ax,) = fig.axes
    assert ax.get_title() == "Label: 7"
    assert ax.get_xlabel() == "pixel column" and ax.get_ylabel() == "pixel row"
    assert ax.images[0].get_cmap().name == "gray_r"
    assert ax.images[0].get_array().shape == (28, 28)
    assert plot_digit(images[0], 7, title="Custom").axes[0].get_title() == "Custom"
    assert_no_clipped_text(fig)


def test_plot_digit_accepts_flat_vector_and_scaled_floats(images):
    flat = images[0].reshape(784).astype(np.float32) / 255
    ax = plot_digit(flat).axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), images[0] / 255, rtol=1e-6)
    assert ax.images[0].get_clim() == (0, 1.0)
    assert plot_digit(images[0]).axes[0].images[0].get_clim() == (0, 255.0)


def test_plot_digit_pixel_values_written_in_cells():
    img = np.zeros((28, 28), dtype=np.uint8)
    img[3, 4] = 255
    img[10, 20] = 7
    ax = plot_digit(img, show_pixel_values=True).axes[0]
    texts = {(t.get_position(), t.get_text()) for t in axes_texts(ax)}
    # One text per non-zero pixel, at (column, row), white on the dark pixel.
    assert texts == {((4, 3), "255"), ((20, 10), "7")}
    colors = {t.get_text(): t.get_color() for t in axes_texts(ax)}
    assert colors == {"255": "white", "7": "black"}
    assert min(t.get_fontsize() for t in axes_texts(ax)) >= 7


def test_plot_digit_scaled_pixel_values_keep_faint_pixels_nonzero():
    img = np.zeros((28, 28), dtype=np.float32)
    img[0, 0], img[0, 1], img[0, 2] = 1.0, 0.5, 1 / 255
    ax = plot_digit(img, show_pixel_values=True).axes[0]
    assert sorted(t.get_text() for t in axes_texts(ax)) == [".50", "1", "<.01"]


def test_plot_digit_draws_into_given_axes(images):
    fig = Figure()
    axes = fig.subplots(1, 2)
    returned = plot_digit(images[1], 3, ax=axes[1])
    assert returned is fig
    assert len(axes[1].images) == 1 and len(axes[0].images) == 0


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((27, 28)),
        np.zeros((2, 28, 28)),
        np.zeros(783),
        np.array([]),
        np.full((28, 28), np.nan),
        -np.ones((28, 28)),
        np.full((28, 28), "x"),
    ],
)
def test_plot_digit_bad_input(bad):
    with pytest.raises(InputError):
        plot_digit(bad)


# --------------------------------------------------------------------------------------------------
# plot_digit_grid
# --------------------------------------------------------------------------------------------------


def test_plot_digit_grid_rows_are_digits(images, labels):
    fig = plot_digit_grid(images, labels, per_class=4, seed=1)
    assert len(fig.axes) == 40
    first_column = fig.axes[::4]
    assert [ax.get_ylabel() for ax in first_column] == [str(d) for d in range(10)]
    assert "4 random examples" in fig.get_suptitle()
    # Each image in row d really is a digit d: find it back in the data.
    for digit in range(10):
        for ax in fig.axes[digit * 4 : digit * 4 + 4]:
            shown = ax.images[0].get_array()
            matches = np.flatnonzero((images == shown).all(axis=(1, 2)))
            assert len(matches) >= 1 and labels[matches[0]] == digit
    assert_no_clipped_text(fig)


def test_plot_digit_grid_is_reproducible_and_seed_matters(images, labels):
    def shown(seed):
        fig = plot_digit_grid(images, labels, per_class=2, seed=seed)
        return np.stack([ax.images[0].get_array() for ax in fig.axes])

    np.testing.assert_array_equal(shown(5), shown(5))
    assert not np.array_equal(shown(5), shown(6))


def test_plot_digit_grid_class_with_too_few_examples(images, labels):
    # 6 examples per digit; asking for 8 leaves two blank cells per row.
    fig = plot_digit_grid(images, labels, per_class=8)
    assert len(fig.axes) == 80
    assert sum(len(ax.images) for ax in fig.axes) == 60


def test_plot_digit_grid_bad_input(images, labels):
    with pytest.raises(InputError, match="must match"):
        plot_digit_grid(images, labels[:-1])
    with pytest.raises(InputError, match="per_class"):
        plot_digit_grid(images, labels, per_class=0)
    with pytest.raises(InputError, match=r"\(N, 28, 28\)"):
        plot_digit_grid(images[0], labels[:1])
    with pytest.raises(InputError):
        plot_digit_grid(images, labels + 5)


# --------------------------------------------------------------------------------------------------
# plot_class_distribution and plot_pixel_histogram
# --------------------------------------------------------------------------------------------------


def test_plot_class_distribution_bar_heights_are_counts():
    train = np.repeat(np.arange(10), np.arange(1, 11) * 10)
    test = np.repeat(np.arange(10), 3)
    fig = plot_class_distribution(train, test)
    (ax,) = fig.axes
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == list(np.arange(1, 11) * 10) + [3] * 10
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"training set ({len(train):,} images)", "test set (30 images)"]
    assert ax.get_xlabel() == "digit" and ax.get_ylabel() == "number of images"
    assert ax.get_title()
    assert "100" in [t.get_text() for t in ax.texts]  # count written on the tallest bar
    assert_no_clipped_text(fig)


def test_plot_class_distribution_bad_input():
    with pytest.raises(InputError, match="test_labels"):
        plot_class_distribution([1, 2], [])
    with pytest.raises(InputError, match="train_labels"):
        plot_class_distribution([1.5], [1])


def test_plot_pixel_histogram_counts_every_pixel(images):
    fig = plot_pixel_histogram(images)
    (ax,) = fig.axes
    heights = ax.patches[0].get_data().values
    assert len(heights) == 256
    assert heights.sum() == images.size
    assert heights[0] == np.sum(images == 0)
    assert ax.get_yscale() == "log"
    assert "pixel value" in ax.get_xlabel() and "log" in ax.get_ylabel()
    share = np.mean(images == 0)
    assert f"{share:.0%} of the {images.size:,} pixels are exactly 0" in all_text(fig)
    assert_no_clipped_text(fig)


def test_plot_pixel_histogram_scaled_images_and_title(images):
    scaled = images.astype(np.float32) / 255
    fig = plot_pixel_histogram(scaled, title="Scaled")
    ax = fig.axes[0]
    heights = ax.patches[0].get_data().values
    assert heights.sum() == images.size
    # 256 bins over [0, 1]: each original value lands in its own bin.
    np.testing.assert_array_equal(heights, np.bincount(images.ravel(), minlength=256))
    assert ax.get_title() == "Scaled"
    assert "1.0" in ax.get_xlabel()


def test_plot_pixel_histogram_bad_input():
    with pytest.raises(InputError, match="empty"):
        plot_pixel_histogram(np.zeros((0, 28, 28)))
    with pytest.raises(InputError, match="negative"):
        plot_pixel_histogram(-np.ones((1, 28, 28)))
    with pytest.raises(InputError, match="0 to 255"):
        plot_pixel_histogram(np.full((1, 28, 28), 300, dtype=np.int32))


# --------------------------------------------------------------------------------------------------
# plot_training_curves
# --------------------------------------------------------------------------------------------------


def test_plot_training_curves_two_panels_train_solid_validation_dashed():
    fig = plot_training_curves(HISTORY)
    loss_ax, acc_ax = fig.axes
    for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        train, val = ax.get_lines()
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])  # epochs are 1-based
        np.testing.assert_allclose(train.get_ydata(), HISTORY[key])
        np.testing.assert_allclose(val.get_ydata(), HISTORY[f"val_{key}"])
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == key
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
        assert ax.get_title()
        ticks = ax.get_xticks()
        assert np.all(ticks == np.round(ticks))  # integer epoch ticks only
    assert_no_clipped_text(fig)  # draws the figure, so the tick labels below are final
    percent_ticks = [t.get_text() for t in acc_ax.get_yticklabels() if t.get_text()]
    assert percent_ticks and all(t.endswith("%") for t in percent_ticks)
    assert not any(t.endswith(".0%") for t in percent_ticks)  # no needless decimals


def test_plot_training_curves_loss_only_and_history_object():
    fig = plot_training_curves({"loss": [1.0, 0.5, 0.3]})
    assert len(fig.axes) == 1
    assert len(fig.axes[0].get_lines()) == 1

    class History:  # like keras.callbacks.History
        history = HISTORY

    assert len(plot_training_curves(History()).axes) == 2


@pytest.mark.parametrize(
    ("history", "match"),
    [
        ({"accuracy": [0.9]}, '"loss"'),
        ({"loss": []}, "empty"),
        ({"loss": [0.5, 0.4], "val_loss": [0.6]}, "one value per epoch"),
        ({"loss": [0.5, 0.4], "accuracy": [0.9]}, "one value per epoch"),
        ({"loss": [[0.5], [0.4]]}, "list of numbers"),
        ({"loss": ["a", "b"]}, "list of numbers"),
        ([0.5, 0.4], "dict"),
    ],
)
def test_plot_training_curves_bad_input(history, match):
    with pytest.raises(InputError, match=match):
        plot_training_curves(history)


# --------------------------------------------------------------------------------------------------
# plot_confusion_matrix
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def confusion() -> np.ndarray:
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 10, size=2000)
    y_pred = np.where(rng.random(2000) < 0.9, y_true, rng.integers(0, 10, size=2000))
    return confusion_matrix(y_true, y_pred)


def cell_texts(ax) -> dict[tuple[int, int], Text]:
    """Annotations of a heatmap keyed by (row, column)."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in axes_texts(ax)}


def test_plot_confusion_matrix_cells_show_counts(confusion):
    fig = plot_confusion_matrix(confusion)
    ax, colorbar_ax = fig.axes
    cells = cell_texts(ax)
    assert len(cells) == 100
    for (i, j), text in cells.items():
        assert text.get_text() == str(confusion[i, j])
    np.testing.assert_array_equal(ax.images[0].get_array(), confusion)
    assert ax.get_xlabel() == "Predicted digit" and ax.get_ylabel() == "True digit"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]
    assert "number of images" in colorbar_ax.get_ylabel()
    assert ax.get_title()
    assert_no_clipped_text(fig)


def test_plot_confusion_matrix_text_contrast():
    cm = np.array([[90, 5, 0], [1, 80, 2], [0, 0, 100]])
    cells = cell_texts(plot_confusion_matrix(cm).axes[0])
    assert cells[(0, 0)].get_color() == "white"  # dark diagonal cell
    assert cells[(1, 0)].get_color() == "black"  # light off-diagonal cell
    assert cells[(0, 2)].get_color() != cells[(1, 0)].get_color()  # zeros are greyed out
    linear = cell_texts(plot_confusion_matrix(cm, log_colors=False).axes[0])
    assert linear[(1, 1)].get_color() == "white" and linear[(0, 1)].get_color() == "black"


def test_plot_confusion_matrix_normalized_rows_in_percent():
    cm = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 2999]])
    fig = plot_confusion_matrix(cm, normalize=True)
    ax = fig.axes[0]
    texts = {key: t.get_text() for key, t in cell_texts(ax).items()}
    assert texts[(0, 0)] == "75.0" and texts[(0, 1)] == "25.0" and texts[(0, 2)] == "0"
    assert texts[(1, 1)] == "0"  # an empty row stays 0, not NaN
    # Never a misleading "0.0" or "100.0" for a row that is not exactly 0 or 100 %.
    assert texts[(2, 0)] == "<0.1" and texts[(2, 2)] == ">99.9"
    texts = {
        k: t.get_text()
        for k, t in cell_texts(
            plot_confusion_matrix(np.eye(3, dtype=int), normalize=True).axes[0]
        ).items()
    }
    assert texts[(0, 0)] == "100"
    np.testing.assert_allclose(ax.images[0].get_array()[0], [75, 25, 0])
    assert "%" in fig.axes[1].get_ylabel()


@pytest.mark.parametrize(
    "bad", [np.zeros((3, 4), dtype=int), np.zeros(10, dtype=int), -np.eye(3, dtype=int)]
)
def test_plot_confusion_matrix_bad_input(bad):
    with pytest.raises(InputError):
        plot_confusion_matrix(bad)


# --------------------------------------------------------------------------------------------------
# plot_mistakes and plot_confused_pairs
# --------------------------------------------------------------------------------------------------


def make_mistakes(n: int) -> list[Mistake]:
    return [
        Mistake(
            index=i,
            true_label=i % 10,
            predicted_label=(i + 3) % 10,
            confidence=0.93 - 0.01 * i,
            true_label_probability=0.05,
        )
        for i in range(n)
    ]


def test_plot_mistakes_titles_show_true_predicted_and_confidence(images):
    mistakes = make_mistakes(10)
    fig = plot_mistakes(images, mistakes, columns=4)
    assert len(fig.axes) == 12  # 3 rows of 4; the last two cells are blank
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 10
    for ax, m in zip(drawn, mistakes, strict=True):
        title = " ".join(ax.get_title().split())
        assert f"true {m.true_label} → pred {m.predicted_label}" in title
        assert f"{m.confidence:.0%}" in title
        np.testing.assert_array_equal(ax.images[0].get_array(), images[m.index])
    assert "Misclassified" in fig.get_suptitle()
    assert_no_clipped_text(fig)
    assert_titles_do_not_overlap(fig)


@pytest.mark.parametrize(("count", "columns"), [(24, 8), (3, 8), (10, 10)])
def test_plot_mistakes_titles_never_overlap(images, count, columns):
    fig = plot_mistakes(images, make_mistakes(count), columns=columns)
    assert_no_clipped_text(fig)
    assert_titles_do_not_overlap(fig)


def test_plot_mistakes_respects_limit_and_columns(images):
    fig = plot_mistakes(images, make_mistakes(30), columns=8, limit=24)
    assert len(fig.axes) == 24
    assert sum(1 for ax in fig.axes if ax.images) == 24
    assert fig.get_figwidth() <= 8


def test_plot_mistakes_near_certain_is_not_rounded_to_100(images):
    m = Mistake(
        index=0, true_label=1, predicted_label=7, confidence=0.998, true_label_probability=0
    )
    assert ">99%" in plot_mistakes(images, [m]).axes[0].get_title()


def test_plot_mistakes_none_gives_a_message(images):
    fig = plot_mistakes(images, [])
    assert "No mistakes" in " ".join(all_text(fig))


def test_plot_mistakes_bad_input(images):
    with pytest.raises(InputError, match="image 99"):
        plot_mistakes(images, [make_mistakes(1)[0].__class__(99, 1, 2, 0.9, 0.1)])
    with pytest.raises(InputError, match="Mistake"):
        plot_mistakes(images, [(0, 1, 2, 0.9)])
    with pytest.raises(InputError, match="columns"):
        plot_mistakes(images, make_mistakes(2), columns=0)
    with pytest.raises(InputError, match=r"\(N, 28, 28\)"):
        plot_mistakes(images[0], make_mistakes(1))


def test_plot_confused_pairs_labels_and_order():
    pairs = [(4, 9, 12), (7, 2, 8), (3, 5, 8)]
    fig = plot_confused_pairs(pairs)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4 → 9", "7 → 2", "3 → 5"]
    assert [p.get_width() for p in ax.patches] == [12, 8, 8]
    assert ax.yaxis_inverted()  # the most frequent pair on top
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert_no_clipped_text(fig)


def test_plot_confused_pairs_empty_and_bad():
    assert "No mistakes" in " ".join(all_text(plot_confused_pairs([])))
    with pytest.raises(InputError, match="triples"):
        plot_confused_pairs([(4, 9)])
    with pytest.raises(InputError, match="negative"):
        plot_confused_pairs([(4, 9, -1)])
