"""Tests of mnist_lib.plots_conv: the convolutional chapter's figures.

Synthetic inputs only (made-up kernels, feature maps, digits and predictions): no training, no
data set.
"""

from __future__ import annotations

import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text, assert_not_in_pyplot

from mnist_lib.errors import InputError
from mnist_lib.plots import HIGHLIGHT_COLOR
from mnist_lib.plots_conv import (
    FEATURE_CMAP,
    FILTER_CMAP,
    plot_conv_filters,
    plot_error_examples,
    plot_feature_maps,
)

RNG = np.random.default_rng(0)
KERNEL = RNG.normal(0.0, 0.1, size=(3, 3, 1, 32)).astype(np.float32)
MAPS = np.maximum(RNG.normal(0.0, 1.0, size=(26, 26, 32)), 0.0)  # after ReLU: never negative
SIGNED_MAPS = RNG.normal(0.0, 1.0, size=(11, 11, 64))


def _digits(n: int) -> np.ndarray:
    """``n`` made-up scaled digits: a bar of ink at a different row in each."""
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for i in range(n):
        images[i, 4 + i % 20, 6:22] = 1.0
    return images


IMAGES = _digits(20)
LABELS = np.arange(20, dtype=np.uint8) % 10
PREDICTIONS = {
    "ref": np.where(np.arange(20) < 10, (LABELS + 1) % 10, LABELS).astype(np.int64),
    "CNN": LABELS.astype(np.int64),
}


def _map_axes(fig):
    """The axes that show an image, in drawing order, without the colour bars."""
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


# --------------------------------------------------------------------------------------------------
# Every figure: outside pyplot, a page wide at most, nothing clipped


@pytest.mark.parametrize(
    "make",
    [
        lambda: plot_conv_filters(KERNEL),
        lambda: plot_conv_filters(KERNEL[..., :3], columns=2, title=None),
        lambda: plot_conv_filters(RNG.normal(size=(5, 5, 64))),
        lambda: plot_feature_maps(MAPS, image=IMAGES[0], kernel=KERNEL, channels=range(16)),
        lambda: plot_feature_maps(MAPS, channels=[3], title="one channel"),
        lambda: plot_feature_maps(SIGNED_MAPS, image=IMAGES[1]),
        lambda: plot_error_examples(IMAGES, LABELS, PREDICTIONS, range(16)),
        lambda: plot_error_examples(IMAGES, LABELS, {"CNN": LABELS}, [0, 1], columns=1),
        lambda: plot_error_examples(IMAGES, LABELS, PREDICTIONS, [], title="none"),
    ],
    ids=[
        "filters",
        "few-filters",
        "5x5-filters",
        "maps-with-filters",
        "one-map",
        "signed-maps",
        "errors",
        "one-model",
        "no-errors",
    ],
)
def test_figures_bypass_pyplot_and_fit_the_page(make) -> None:
    fig = assert_not_in_pyplot(make)
    assert fig.get_figwidth() <= 7.5
    assert_no_clipped_text(fig)


# --------------------------------------------------------------------------------------------------
# plot_conv_filters


def test_filters_draws_every_filter_in_order_on_one_scale_centred_on_zero() -> None:
    fig = plot_conv_filters(KERNEL)
    drawn = _map_axes(fig)
    assert len(drawn) == 32
    for index, ax in enumerate(drawn):
        np.testing.assert_array_equal(ax.images[0].get_array(), KERNEL[:, :, 0, index])
        assert ax.get_title() == str(index)
        assert ax.images[0].get_cmap().name == FILTER_CMAP
    top = float(np.abs(KERNEL).max())
    for ax in drawn:
        low, high = ax.images[0].get_clim()
        assert low == pytest.approx(-top) and high == pytest.approx(top)
    text = all_text(fig)
    assert "weight" in text
    assert any("32 filters of 3 × 3 weights" in t for t in text)  # noqa: RUF001


def test_filters_accepts_a_stack_of_filters_and_lays_it_out_in_rows() -> None:
    stack = KERNEL[:, :, 0, :10]
    fig = plot_conv_filters(stack, columns=4)
    drawn = _map_axes(fig)
    assert len(drawn) == 10
    np.testing.assert_array_equal(drawn[9].images[0].get_array(), stack[:, :, 9])
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == 12  # 3 rows of 4; the last two are empty and hidden
    assert sum(not ax.axison for ax in grid) == 2


def test_filters_of_zeros_still_get_a_usable_scale() -> None:
    fig = plot_conv_filters(np.zeros((3, 3, 1, 2)))
    assert _map_axes(fig)[0].images[0].get_clim() == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("kernel", "columns", "message"),
    [
        (RNG.normal(size=(3, 3, 32, 64)), 8, "32 input channels"),
        (RNG.normal(size=(3, 3)), 8, r"shape \(height, width, 1, filters\)"),
        (np.zeros((3, 3, 1, 0)), 8, "empty"),
        (np.full((3, 3, 1, 2), np.nan), 8, "NaN"),
        (np.array([["a"]]), 8, "numbers"),
        (RNG.normal(size=(3, 3, 65)), 8, "at most 64 filters"),
        (KERNEL, 0, "columns must be a positive integer"),
        (KERNEL, True, "columns must be a positive integer"),
    ],
)
def test_filters_rejects_what_it_cannot_draw(kernel, columns, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_conv_filters(kernel, columns=columns)


# --------------------------------------------------------------------------------------------------
# plot_feature_maps


def test_feature_maps_draws_the_chosen_channels_in_order_on_one_scale() -> None:
    chosen = [5, 0, 17]
    fig = plot_feature_maps(MAPS, channels=chosen)
    drawn = _map_axes(fig)
    assert len(drawn) == 3
    top = float(MAPS[:, :, chosen].max())
    for ax, channel in zip(drawn, chosen, strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), MAPS[:, :, channel])
        assert ax.images[0].get_clim() == (0.0, pytest.approx(top))
        assert ax.images[0].get_cmap().name == FEATURE_CMAP
    titles = [ax.get_title() for ax in drawn]
    assert titles == ["channel 5", "channel 0", "channel 17"]
    assert any("3 of 32 channels, each 26 × 26" in t for t in all_text(fig))  # noqa: RUF001


def test_feature_maps_defaults_to_every_channel_and_drops_a_batch_axis_of_one() -> None:
    fig = plot_feature_maps(MAPS[None, :, :, :8])
    drawn = _map_axes(fig)
    assert len(drawn) == 8
    assert any("(8 channels, each 26 × 26)" in t for t in all_text(fig))  # noqa: RUF001
    np.testing.assert_array_equal(drawn[7].images[0].get_array(), MAPS[:, :, 7])


def test_feature_maps_with_negative_values_use_a_scale_centred_on_zero() -> None:
    fig = plot_feature_maps(SIGNED_MAPS, channels=range(4))
    image = _map_axes(fig)[0].images[0]
    low, high = image.get_clim()
    assert low == -high and high == pytest.approx(float(np.abs(SIGNED_MAPS[:, :, :4]).max()))
    assert image.get_cmap().name == FILTER_CMAP


def test_feature_maps_draw_the_input_digit_and_each_channels_filter_above_it() -> None:
    chosen = [2, 9]
    fig = plot_feature_maps(MAPS, channels=chosen, image=IMAGES[3], kernel=KERNEL, title="Block 1")
    drawn = _map_axes(fig)
    # the input first, then filter and map of each channel
    np.testing.assert_array_equal(drawn[0].images[0].get_array(), IMAGES[3])
    assert drawn[0].get_title() == "input"
    arrays = [ax.images[0].get_array() for ax in drawn[1:]]
    assert len(arrays) == 4
    filters = [a for a in arrays if a.shape == (3, 3)]
    maps = [a for a in arrays if a.shape == (26, 26)]
    np.testing.assert_array_equal(filters[0], KERNEL[:, :, 0, 2])
    np.testing.assert_array_equal(filters[1], KERNEL[:, :, 0, 9])
    np.testing.assert_array_equal(maps[0], MAPS[:, :, 2])
    np.testing.assert_array_equal(maps[1], MAPS[:, :, 9])
    text = all_text(fig)
    assert "channel 2" in text and "channel 9" in text
    assert any(t.startswith("Block 1") and "its filter" in t for t in text)


def test_feature_maps_can_name_the_channels() -> None:
    fig = plot_feature_maps(MAPS, channels=[4, 1], labels=["edge", "blur"], kernel=KERNEL)
    text = all_text(fig)
    assert "edge" in text and "blur" in text and "channel 4" not in text


@pytest.mark.parametrize(
    ("maps", "kwargs", "message"),
    [
        (MAPS[:, :, 0], {}, r"shape \(height, width, channels\)"),
        (np.stack([MAPS, MAPS]), {}, r"outputs\[name\]\[0\]"),
        (MAPS, {"channels": [32]}, "channel 32 does not exist: the maps have 32 channels"),
        (MAPS, {"channels": [-1]}, "channel -1 does not exist"),
        (MAPS, {"channels": []}, "at least one channel"),
        (MAPS, {"channels": [1, 1]}, "twice"),
        (MAPS, {"channels": [1.5]}, "channel numbers"),
        (MAPS, {"channels": [True]}, "channel numbers"),
        (RNG.normal(size=(5, 5, 80)), {"channels": range(65)}, "at most 64 channels"),
        (MAPS, {"kernel": KERNEL[..., :16]}, "16 filters but maps has 32 channels"),
        (MAPS, {"image": IMAGES[0, :20]}, "28 x 28"),
        (MAPS, {"columns": -2}, "columns must be a positive integer"),
        (MAPS, {"channels": [0, 1], "labels": ["a"]}, "name each of the 2 channels drawn"),
        (np.full((4, 4, 2), np.inf), {}, "infinite"),
    ],
)
def test_feature_maps_rejects_what_it_cannot_draw(maps, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_feature_maps(maps, **kwargs)


# --------------------------------------------------------------------------------------------------
# plot_error_examples


def test_error_examples_write_the_label_and_each_models_answer_marking_wrong_ones() -> None:
    fig = plot_error_examples(IMAGES, LABELS, PREDICTIONS, [12, 3])
    drawn = _map_axes(fig)
    assert len(drawn) == 2
    np.testing.assert_array_equal(drawn[0].images[0].get_array(), IMAGES[12])
    np.testing.assert_array_equal(drawn[1].images[0].get_array(), IMAGES[3])
    lines = {ax: {t.get_text(): t for t in ax.texts} for ax in drawn}
    # image 12: both right
    assert set(lines[drawn[0]]) == {"true 2", "ref 2 \N{CHECK MARK}", "CNN 2 \N{CHECK MARK}"}
    # image 3: the reference says 4 for a 3, the CNN is right
    texts = lines[drawn[1]]
    assert set(texts) == {"true 3", "ref 4 \N{BALLOT X}", "CNN 3 \N{CHECK MARK}"}
    assert texts["ref 4 \N{BALLOT X}"].get_color() == HIGHLIGHT_COLOR
    assert texts["ref 4 \N{BALLOT X}"].get_fontweight() == "bold"
    assert texts["CNN 3 \N{CHECK MARK}"].get_color() == "black"
    # the label on top, then the models in the order given
    heights = [t.xyann[1] for t in (texts["true 3"], texts["ref 4 \N{BALLOT X}"])]
    assert heights[0] > heights[1] > texts["CNN 3 \N{CHECK MARK}"].xyann[1]
    assert any("a wrong answer" in t for t in all_text(fig))


def test_error_examples_fill_rows_and_hide_the_empty_cells() -> None:
    fig = plot_error_examples(IMAGES, LABELS, PREDICTIONS, range(10), columns=4)
    grid = fig.axes
    assert len(grid) == 12 and len(_map_axes(fig)) == 10
    assert sum(not ax.axison for ax in grid) == 2


def test_error_examples_without_images_say_so() -> None:
    fig = plot_error_examples(IMAGES, LABELS, PREDICTIONS, [])
    assert "No images to show." in all_text(fig)


@pytest.mark.parametrize(
    ("labels", "predictions", "indices", "message"),
    [
        (LABELS[:5], PREDICTIONS, [0], "images has 20 entries but labels has 5"),
        (LABELS.astype(float), PREDICTIONS, [0], "1-D array of digits"),
        (LABELS, {}, [0], "at least one model"),
        (LABELS, {"a": LABELS, "b": LABELS, "c": LABELS, "d": LABELS}, [0], "at most 3 models"),
        (LABELS, {"ref": LABELS[:3]}, [0], r"predictions\['ref'\] must hold one predicted"),
        (LABELS, PREDICTIONS, [20], "index 20 is outside the 20 images"),
        (LABELS, PREDICTIONS, ["x"], "image positions"),
        (LABELS, PREDICTIONS, list(range(20)) * 4, "at most 64 images"),
    ],
)
def test_error_examples_reject_what_they_cannot_draw(labels, predictions, indices, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_error_examples(IMAGES, labels, predictions, indices)
