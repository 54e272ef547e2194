"""Tests of the figures of the results and error-analysis chapters (and the loss curve of the
training chapter): each has the expected parts and numbers, and nothing drawn is clipped.

Images and probabilities are synthetic: no data set or model needed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text, assert_not_in_pyplot
from mnist_fixtures import probs_for

from mnist_lib.errors import InputError
from mnist_lib.evaluate import (
    NUM_CLASSES,
    Mistake,
    confusion_matrix,
    per_class_scores,
    rank_mistakes,
)
from mnist_lib.plots import (
    CONFIDENCE_BINS,
    plot_class_error_rates,
    plot_confidence_histogram,
    plot_log_loss,
    plot_mistake_probabilities,
    plot_pair_mistakes,
)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """40 scaled 'digits': a blank background with one bright block each."""
    rng = np.random.default_rng(1)
    out = np.zeros((40, 28, 28), dtype=np.float32)
    for img in out:
        r, c = rng.integers(4, 18, size=2)
        img[r : r + 6, c : c + 4] = rng.uniform(0.2, 1.0, size=(6, 4))
    return out


@pytest.fixture(scope="module")
def labelled() -> tuple[np.ndarray, np.ndarray]:
    """True labels and probabilities for the 40 images: 30 right, 10 wrong.

    Wrong answers: 7 -> 2 four times, 9 -> 4 three times, 4 -> 9 twice, 3 -> 5 once.
    """
    y_true = np.arange(40) % 10
    predicted = y_true.copy()
    wrong = {0: 2, 10: 2, 20: 2, 30: 2}  # images whose true digit is 0 stand in below
    y_true = y_true.copy()
    for i in wrong:
        y_true[i], predicted[i] = 7, 2
    for i in (9, 19, 29):
        y_true[i], predicted[i] = 9, 4
    for i in (4, 14):
        y_true[i], predicted[i] = 4, 9
    y_true[3], predicted[3] = 3, 5
    confidence = np.linspace(0.3, 0.999, 40)
    return y_true, probs_for(list(predicted), list(confidence))


# --------------------------------------------------------------------------------------------------
# plot_class_error_rates
# --------------------------------------------------------------------------------------------------


def test_class_error_rates_bars_are_one_minus_recall_and_precision():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 0])
    scores = per_class_scores(confusion_matrix(y_true, y_pred, num_classes=3))
    fig = assert_not_in_pyplot(lambda: plot_class_error_rates(scores))
    (ax,) = fig.axes
    missed, false = ax.containers
    np.testing.assert_allclose([b.get_height() for b in missed], [25.0, 0.0, 50.0])
    # digit 0 predicted 4 times, 1 wrong; digit 1 predicted 5 times, 1 wrong; digit 2 never wrong
    np.testing.assert_allclose([b.get_height() for b in false], [25.0, 20.0, 0.0])
    texts = all_text(fig)
    assert "25.0%" in texts and "20.0%" in texts and "0.0%" in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "recall" in legend[0] and "precision" in legend[1]
    assert_no_clipped_text(fig)


def test_class_error_rates_marks_tiny_rates_as_nonzero():
    y_true = np.repeat(np.arange(10), 300)
    y_pred = y_true.copy()
    y_pred[0] = 1  # one 0 of 300 missed: 0.33 %, and 1 of 301 answers "1" wrong
    y_true_big = np.concatenate([y_true, np.full(3000, 5)])
    y_pred_big = np.concatenate([y_pred, np.full(3000, 5)])
    y_pred_big[3000] = 6  # one 5 of 3300 missed: 0.03 %
    scores = per_class_scores(confusion_matrix(y_true_big, y_pred_big))
    assert "<0.1%" in all_text(plot_class_error_rates(scores))


def test_class_error_rates_rejects_other_input():
    with pytest.raises(InputError, match="ClassScores"):
        plot_class_error_rates([])
    with pytest.raises(InputError, match="ClassScores"):
        plot_class_error_rates([(0, 0.9, 0.9, 0.9, 10)])


# --------------------------------------------------------------------------------------------------
# plot_confidence_histogram
# --------------------------------------------------------------------------------------------------


def test_confidence_histogram_shares_per_group():
    y_true = np.array([0, 1, 2, 3, 4, 5])
    # right: 0.995, 0.97, 0.55, 0.999; wrong: 0.45 and 0.995
    probs = probs_for([0, 1, 2, 3, 9, 6], [0.995, 0.97, 0.55, 0.999, 0.45, 0.995])
    fig = assert_not_in_pyplot(lambda: plot_confidence_histogram(y_true, probs))
    (ax,) = fig.axes
    right, wrong = ax.containers
    assert len(right) == len(CONFIDENCE_BINS) - 1
    np.testing.assert_allclose([b.get_height() for b in right], [0, 25, 0, 0, 0, 0, 25, 50])
    np.testing.assert_allclose([b.get_height() for b in wrong], [50, 0, 0, 0, 0, 0, 0, 50])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "below 50%" and labels[-1] == "99% or more" and "95–99%" in labels  # noqa: RUF001
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["right answers (4 images)", "wrong answers (2 images)"]
    texts = all_text(fig)
    assert "50.0%" in texts and "25.0%" in texts
    assert_no_clipped_text(fig)


def test_confidence_histogram_without_mistakes():
    probs = probs_for([1, 2], [0.9, 0.8])
    fig = plot_confidence_histogram(np.array([1, 2]), probs)
    right, wrong = fig.axes[0].containers
    assert sum(b.get_height() for b in right) == pytest.approx(100)
    assert sum(b.get_height() for b in wrong) == 0
    assert "wrong answers (0 images)" in all_text(fig)


def test_confidence_histogram_checks_its_input():
    with pytest.raises(InputError):
        plot_confidence_histogram(np.array([1, 2, 3]), probs_for([1], [0.9]))


# --------------------------------------------------------------------------------------------------
# plot_mistake_probabilities
# --------------------------------------------------------------------------------------------------


def test_mistake_probabilities_one_image_and_one_bar_chart_each(images, labelled):
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)[:6]
    fig = assert_not_in_pyplot(lambda: plot_mistake_probabilities(images, probs, mistakes))
    image_axes = [ax for ax in fig.axes if ax.images]
    bar_axes = [ax for ax in fig.axes if ax.patches]
    assert len(image_axes) == 6 and len(bar_axes) == 6
    for m, ax_img, ax_bar in zip(mistakes, image_axes, bar_axes, strict=True):
        assert ax_img.get_title() == (
            f"test image {m.index}\ntrue {m.true_label} → pred {m.predicted_label}"
        )
        heights = [p.get_height() for p in ax_bar.patches]
        np.testing.assert_allclose(heights, probs[m.index])
        bars = ax_bar.patches
        assert bars[m.true_label].get_facecolor() != bars[m.predicted_label].get_facecolor()
        assert f"p({m.predicted_label})" in ax_bar.get_xlabel()
    assert_no_clipped_text(fig)


def test_mistake_probabilities_writes_extreme_probabilities_honestly(images):
    probs = np.full((40, NUM_CLASSES), 0.0001)
    probs[0, 1] = 1 - 9 * 0.0001  # 99.91 %: not "100%"
    mistake = Mistake(0, 6, 1, float(probs[0, 1]), 0.0001)
    fig = plot_mistake_probabilities(images, probs, [mistake])
    (label,) = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
    assert label == "p(6) < 1%, p(1) > 99%"


def test_mistake_probabilities_rejects_bad_input(images, labelled):
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)
    with pytest.raises(InputError, match="at most 12"):
        plot_mistake_probabilities(images, probs, mistakes * 2)
    with pytest.raises(InputError, match="must match"):
        plot_mistake_probabilities(images[:10], probs, mistakes[:2])
    with pytest.raises(InputError, match="refers to image"):
        plot_mistake_probabilities(images, probs, [Mistake(99, 1, 2, 0.9, 0.1)])
    with pytest.raises(InputError, match="Mistake"):
        plot_mistake_probabilities(images, probs, [(1, 2, 3)])
    with pytest.raises(InputError, match="columns"):
        plot_mistake_probabilities(images, probs, mistakes[:2], columns=0)
    assert "No mistakes to show." in all_text(plot_mistake_probabilities(images, probs, []))


# --------------------------------------------------------------------------------------------------
# plot_pair_mistakes
# --------------------------------------------------------------------------------------------------


def test_pair_mistakes_one_row_per_pair_most_confident_first(images, labelled):
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)
    pairs = [(7, 2, 4), (9, 4, 3), (4, 9, 2)]
    fig = assert_not_in_pyplot(lambda: plot_pair_mistakes(images, mistakes, pairs, per_pair=3))
    grid = np.array(fig.axes).reshape(3, 3)
    shown = [[len(ax.images) for ax in row] for row in grid]
    assert shown == [[1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert grid[0, 0].get_ylabel() == "7 → 2\n4 images,\n3 shown"
    assert grid[1, 0].get_ylabel() == "9 → 4\n3 images"
    assert grid[2, 0].get_ylabel() == "4 → 9\n2 images"
    # the first row holds the three most confident 7 -> 2 mistakes, in that order
    sevens = [m for m in mistakes if (m.true_label, m.predicted_label) == (7, 2)][:3]
    for ax, m in zip(grid[0], sevens, strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), images[m.index])
    assert_no_clipped_text(fig)


def test_pair_mistakes_accepts_plain_pairs_and_shows_empty_rows(images, labelled):
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)
    fig = plot_pair_mistakes(images, mistakes, [(3, 5), (1, 7)], per_pair=2)
    grid = np.array(fig.axes).reshape(2, 2)
    assert grid[0, 0].get_ylabel() == "3 → 5\n1 image"
    assert grid[1, 0].get_ylabel() == "1 → 7\n0 images"
    assert sum(len(ax.images) for ax in fig.axes) == 1


def test_pair_mistakes_rejects_bad_input(images, labelled):
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)
    with pytest.raises(InputError, match="empty"):
        plot_pair_mistakes(images, mistakes, [])
    with pytest.raises(InputError, match="true, predicted"):
        plot_pair_mistakes(images, mistakes, [(7,)])
    with pytest.raises(InputError, match="per_pair"):
        plot_pair_mistakes(images, mistakes, [(7, 2)], per_pair=0)
    with pytest.raises(InputError, match="refers to image"):
        plot_pair_mistakes(images[:5], mistakes, [(7, 2)])


# --------------------------------------------------------------------------------------------------
# plot_log_loss
# --------------------------------------------------------------------------------------------------


def test_log_loss_curve_and_marked_points():
    fig = assert_not_in_pyplot(plot_log_loss)
    (ax,) = fig.axes
    curve = ax.lines[0]
    p, loss = curve.get_xdata(), curve.get_ydata()
    np.testing.assert_allclose(loss, -np.log(p))
    assert p.max() == 1.0 and loss.min() == 0.0
    marks = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines[1:]]
    assert [m[0] for m in marks] == [0.1, 0.5, 0.9, 0.99]
    for value, loss_at in marks:
        assert loss_at == pytest.approx(-math.log(value))
    texts = all_text(fig)
    assert any(t.startswith("p = 0.1: loss 2.303") for t in texts)
    assert any(t.startswith("p = 0.99: loss 0.010") for t in texts)
    assert_no_clipped_text(fig)


def test_gallery_figures_have_whole_pixel_sizes(images, labelled):
    """Their text repr (``<Figure size 750x714 ...>``) then matches the notebooks' sanitizer."""
    y_true, probs = labelled
    mistakes = rank_mistakes(y_true, probs)
    for columns in (3, 4, 5):
        fig = plot_mistake_probabilities(images, probs, mistakes[:7], columns=columns)
        assert np.allclose(fig.get_size_inches() * 100, np.round(fig.get_size_inches() * 100))
    for per_pair in (3, 7, 9):
        fig = plot_pair_mistakes(images, mistakes, [(7, 2), (9, 4), (4, 9)], per_pair=per_pair)
        assert np.allclose(fig.get_size_inches() * 100, np.round(fig.get_size_inches() * 100))
