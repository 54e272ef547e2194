"""Tests of the figures of the data, preprocessing and model chapters (mnist_lib.plots).

Synthetic images only: a blank 28 x 28 background with a bright block.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text
from matplotlib.figure import Figure

from mnist_lib.errors import InputError
from mnist_lib.plots import (
    plot_activations,
    plot_data_split,
    plot_flattening,
    plot_mean_digits,
    plot_probabilities,
    plot_scaling,
)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """20 uint8 'digits': digit d has a block of value 10 + 20 d at rows 5..14, columns 10..15."""
    out = np.zeros((20, 28, 28), dtype=np.uint8)
    for i in range(20):
        out[i, 5:15, 10:16] = 10 + 20 * (i % 10)
    return out


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return np.arange(20) % 10


def test_figures_bypass_pyplot_and_fit_the_page(images, labels) -> None:
    before = plt.get_fignums()
    figures = [
        plot_mean_digits(images, labels),
        plot_scaling(images[0]),
        plot_flattening(images[0]),
        plot_data_split(54_000, 6_000, 10_000),
        plot_activations(),
        plot_probabilities(np.full(10, 0.1), 3),
    ]
    assert plt.get_fignums() == before
    for fig in figures:
        assert isinstance(fig, Figure)
        assert fig.get_figwidth() <= 7.5
        assert_no_clipped_text(fig)


# --------------------------------------------------------------------------------------------------
# plot_mean_digits


def test_plot_mean_digits_shows_each_digits_average(images, labels) -> None:
    fig = plot_mean_digits(images, labels)
    assert len(fig.axes) == 10
    for digit, ax in enumerate(fig.axes):
        shown = ax.images[0].get_array()
        assert shown.shape == (28, 28)
        assert shown.max() == pytest.approx(10 + 20 * digit)
        assert ax.get_title() == f"{digit}  (2 images)"
        assert ax.images[0].get_cmap().name == "gray_r"


def test_plot_mean_digits_needs_every_digit(images, labels) -> None:
    with pytest.raises(InputError, match="no image of digit"):
        plot_mean_digits(images[:5], labels[:5])


# --------------------------------------------------------------------------------------------------
# plot_scaling


def test_plot_scaling_writes_the_patch_before_and_after() -> None:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[6, 9], image[6, 10], image[7, 9] = 255, 1, 51
    fig = plot_scaling(image, top=6, left=9, size=2)
    whole, raw, scaled = fig.axes
    assert [t.get_text() for t in raw.texts] == ["255", "1", "51", "0"]
    assert [t.get_text() for t in scaled.texts] == ["1", "<0.01", "0.20", "0"]
    assert scaled.images[0].get_array().max() == pytest.approx(1.0)
    assert [t.get_text() for t in raw.get_xticklabels()] == ["9", "10"]
    assert [t.get_text() for t in raw.get_yticklabels()] == ["6", "7"]
    assert len(whole.patches) == 1  # the outline of the patch


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"top": 25, "size": 6}, "inside the 28 x 28"), ({"left": -1}, "non-negative")],
)
def test_plot_scaling_rejects_patches_outside_the_image(images, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_scaling(images[0], **kwargs)


def test_plot_scaling_needs_raw_pixels(images) -> None:
    with pytest.raises(InputError, match="raw pixel values"):
        plot_scaling(images[0] / 255.0)


# --------------------------------------------------------------------------------------------------
# plot_flattening


def test_plot_flattening_marks_neighbours_28_positions_apart(images) -> None:
    fig = plot_flattening(images[3], row=5, col=12)
    texts = all_text(fig)
    assert "28 positions apart" in texts
    assert "the same image as one vector of 784 numbers" in texts
    _, vector, zoom = fig.axes
    heights = [seg[1, 1] for seg in vector.collections[0].get_segments()]
    assert heights == images[3].reshape(-1).astype(float).tolist()
    zoom_ticks = [int(t) for t in zoom.get_xticks()]
    assert zoom_ticks == [140, 152, 168, 180, 195]  # rows 5 and 6, and the marked pixels


def test_plot_flattening_rejects_the_last_row(images) -> None:
    with pytest.raises(InputError, match=r"row must be 0\.\.26"):
        plot_flattening(images[0], row=27)


# --------------------------------------------------------------------------------------------------
# plot_data_split


def test_plot_data_split_labels_the_three_sets() -> None:
    fig = plot_data_split(54_000, 6_000, 10_000)
    texts = all_text(fig)
    for text in ("54,000", "6,000", "10,000"):
        assert text in texts
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [entry.split(" ")[0] for entry in legend] == ["training", "validation", "test"]


def test_plot_data_split_rejects_bad_sizes() -> None:
    with pytest.raises(InputError, match="n_validation must be a positive integer"):
        plot_data_split(54_000, 0, 10_000)


# --------------------------------------------------------------------------------------------------
# plot_activations


def test_plot_activations_draws_functions_and_derivatives() -> None:
    fig = plot_activations()
    functions, derivatives = fig.axes
    relu, sigmoid = functions.lines[:2]
    z = relu.get_xdata()
    assert relu.get_ydata() == pytest.approx(np.maximum(z, 0))
    assert sigmoid.get_ydata() == pytest.approx(1 / (1 + np.exp(-z)))
    sigmoid_slope = next(
        line for line in derivatives.lines if "sigma" in str(line.get_label())
    ).get_ydata()
    assert max(sigmoid_slope) == pytest.approx(0.25, abs=1e-4)
    assert "at most 0.25" in all_text(fig)


def test_plot_activations_needs_zero_inside_the_range() -> None:
    with pytest.raises(InputError, match="z_min < 0 < z_max"):
        plot_activations(1.0, 5.0)


# --------------------------------------------------------------------------------------------------
# plot_probabilities


def test_plot_probabilities_bars_in_percent_with_the_true_digit_highlighted() -> None:
    probs = np.array([0.05] * 8 + [0.3, 0.3])
    fig = plot_probabilities(probs, 9)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches[:10]] == pytest.approx(100 * probs)
    colors = {tuple(p.get_facecolor()) for p in ax.patches[:9]}
    assert len(colors) == 1 and tuple(ax.patches[9].get_facecolor()) not in colors
    texts = all_text(fig)
    assert "30%" in texts and "the true digit, 9" in texts


@pytest.mark.parametrize(
    ("probs", "label", "message"),
    [
        (np.full(9, 1 / 9), None, "10 finite numbers"),
        (np.full(10, 0.2), None, "sum to 1"),
        (np.full(10, 0.1), 10, "true_label"),
    ],
)
def test_plot_probabilities_rejects_bad_input(probs, label, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_probabilities(probs, label)
