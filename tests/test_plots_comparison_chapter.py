"""Tests of the comparison chapter's figure: every mistake of one model, in labelled groups
(mnist_lib.plots_compare.plot_mistake_groups).

Synthetic inputs only (made-up images and mistakes): no training, no data set.
"""

from __future__ import annotations

import numpy as np
import pytest
from figure_checks import all_text, assert_no_clipped_text, assert_not_in_pyplot

from mnist_lib.errors import InputError
from mnist_lib.evaluate import Mistake
from mnist_lib.plots_compare import MAX_GALLERY_DIGITS, plot_mistake_groups

IMAGES = np.random.default_rng(0).random((40, 28, 28))


def _mistake(index: int, true: int = 7, predicted: int = 2, confidence: float = 0.9):
    return Mistake(
        index=index,
        true_label=true,
        predicted_label=predicted,
        confidence=confidence,
        true_label_probability=0.05,
    )


GROUPS = {
    "wrong for every model": [_mistake(3, 4, 9, 0.996), _mistake(17, 8, 5, 0.61)],
    "only this model wrong": [_mistake(i, 5, 3, 0.5 + i / 100) for i in range(20, 33)],
}


def _digit_axes(fig) -> list:
    """The axes that show a digit (those with an image)."""
    return [ax for ax in fig.axes if ax.images]


@pytest.mark.parametrize("columns", [10, 4, 1])
def test_gallery_bypasses_pyplot_and_fits_the_page(columns) -> None:
    fig = assert_not_in_pyplot(
        lambda: plot_mistake_groups(IMAGES, GROUPS, columns=columns, title="All mistakes")
    )
    assert fig.get_size_inches()[0] <= 7.5
    assert_no_clipped_text(fig)


def test_gallery_draws_every_mistake_once_with_its_answer_and_confidence() -> None:
    fig = plot_mistake_groups(IMAGES, GROUPS, columns=5)
    digits = _digit_axes(fig)
    assert len(digits) == 2 + 13
    shown = [ax.images[0].get_array() for ax in digits]
    expected = [m.index for group in GROUPS.values() for m in group]
    for image, index in zip(shown, expected, strict=True):
        np.testing.assert_array_equal(image, IMAGES[index])
    titles = [ax.get_title() for ax in digits]
    assert titles[0] == "4 \N{RIGHTWARDS ARROW} 9\n>99%"  # 99.6% is not rounded up to 100%
    assert titles[1] == "8 \N{RIGHTWARDS ARROW} 5\n61%"
    assert titles[2] == "5 \N{RIGHTWARDS ARROW} 3\n70%"
    text = all_text(fig)
    assert "wrong for every model (2)" in text
    assert "only this model wrong (13)" in text


def test_gallery_rows_follow_columns_and_every_group_keeps_the_cell_size() -> None:
    fig = plot_mistake_groups(IMAGES, GROUPS, columns=5)
    # 1 row for the first group, 3 rows for the second (13 digits, 5 per row)
    assert len(fig.axes) == 5 + 15
    fig.canvas.draw()
    widths = {round(ax.get_position().width * fig.get_size_inches()[0], 2) for ax in fig.axes}
    assert len(widths) == 1


def test_gallery_can_name_each_image_by_its_index() -> None:
    plain = plot_mistake_groups(IMAGES, GROUPS)
    named = plot_mistake_groups(IMAGES, GROUPS, show_index=True)
    assert all(ax.get_xlabel() == "" for ax in _digit_axes(plain))
    labels = [ax.get_xlabel() for ax in _digit_axes(named)]
    assert labels == [str(m.index) for group in GROUPS.values() for m in group]
    assert named.get_size_inches()[1] > plain.get_size_inches()[1]
    assert_no_clipped_text(named)


def test_gallery_says_none_for_an_empty_group() -> None:
    fig = plot_mistake_groups(IMAGES, {"wrong for no model": [], **GROUPS})
    text = all_text(fig)
    assert "wrong for no model (0)" in text and "none" in text
    assert len(_digit_axes(fig)) == 15
    assert_no_clipped_text(fig)


def test_gallery_of_raw_pixels_uses_the_raw_grey_scale() -> None:
    raw = (IMAGES * 255).astype(np.uint8)
    fig = plot_mistake_groups(raw, {"few": [_mistake(0)]})
    (ax,) = _digit_axes(fig)
    assert ax.images[0].get_clim() == (0, 255)


@pytest.mark.parametrize(
    ("groups", "kwargs", "message"),
    [
        ({}, {}, "at least one heading"),
        ([_mistake(0)], {}, "at least one heading"),
        ({"a": _mistake(0)}, {}, "list of Mistake records"),
        ({"a": "7 -> 2"}, {}, "list of Mistake records"),
        ({"a": [(0, 7, 2)]}, {}, "must hold Mistake records"),
        ({"a": [_mistake(40)]}, {}, "refers to image 40 but images holds 40"),
        ({"a": [_mistake(-1)]}, {}, "refers to image -1"),
        ({"a": [_mistake(1)], "b": [_mistake(1)]}, {}, "image 1 is in group 'a' and in group 'b'"),
        ({"a": [_mistake(1), _mistake(1)]}, {}, "image 1 is in group 'a' and in group 'a'"),
        ({"a": [_mistake(0)]}, {"columns": 0}, "columns must be a positive integer"),
        ({"a": [_mistake(0)]}, {"columns": 2.5}, "columns must be a positive integer"),
        ({"a": [_mistake(0)]}, {"columns": True}, "columns must be a positive integer"),
    ],
)
def test_gallery_rejects_bad_input(groups, kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        plot_mistake_groups(IMAGES, groups, **kwargs)


def test_gallery_rejects_images_that_are_not_digits() -> None:
    with pytest.raises(InputError, match="must have shape"):
        plot_mistake_groups(np.zeros((4, 10, 10)), {"a": [_mistake(0)]})


def test_gallery_refuses_more_digits_than_fit() -> None:
    images = np.zeros((MAX_GALLERY_DIGITS + 1, 28, 28))
    too_many = [_mistake(i) for i in range(MAX_GALLERY_DIGITS + 1)]
    with pytest.raises(InputError, match=f"at most {MAX_GALLERY_DIGITS} digits"):
        plot_mistake_groups(images, {"all": too_many})
