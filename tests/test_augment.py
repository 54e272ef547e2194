"""Tests of data augmentation: shifting and turning the training digits (mnist_lib.augment)."""

from __future__ import annotations

import numpy as np
import pytest
from mnist_fixtures import REAL_MNIST

from mnist_lib.augment import affine_transform, augment_images
from mnist_lib.data import load_mnist
from mnist_lib.errors import InputError
from mnist_lib.preprocess import scale_images


@pytest.fixture()
def noise() -> np.ndarray:
    """Four scaled float32 images of random pixels, every one different."""
    return np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The first 500 real training digits, scaled."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_OFFLINE", "1")
        data = load_mnist(REAL_MNIST)
    return scale_images(data.train.images[:500])


def shifted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``images`` moved down by ``rows`` and right by ``cols`` whole pixels, zeros filled in."""
    out = np.zeros_like(images)
    height, width = images.shape[1:]
    dst_r = slice(max(rows, 0), height + min(rows, 0))
    src_r = slice(max(-rows, 0), height + min(-rows, 0))
    dst_c = slice(max(cols, 0), width + min(cols, 0))
    src_c = slice(max(-cols, 0), width + min(-cols, 0))
    out[:, dst_r, dst_c] = images[:, src_r, src_c]
    return out


def test_shifted_helper_itself() -> None:
    image = np.arange(9, dtype=np.float32).reshape(1, 3, 3)
    np.testing.assert_array_equal(shifted(image, 1, -1)[0], [[0, 0, 0], [1, 2, 0], [4, 5, 0]])


# ------------------------------------------------------------------------------------------
# affine_transform


@pytest.mark.parametrize("rows, cols", [(3, -2), (-1, 0), (0, 4), (-5, -5), (27, 0)])
def test_integer_shift_moves_pixels_and_fills_zeros(
    noise: np.ndarray, rows: int, cols: int
) -> None:
    out = affine_transform(noise, 0.0, rows, cols)
    np.testing.assert_allclose(out, shifted(noise, rows, cols), atol=1e-6)


def test_each_image_gets_its_own_shift(noise: np.ndarray) -> None:
    rows, cols = [1, 0, -2, 0], [0, 1, -3, 0]
    out = affine_transform(noise, [0, 0, 0, 0], rows, cols)
    for index in range(4):
        expected = shifted(noise[index : index + 1], rows[index], cols[index])[0]
        np.testing.assert_allclose(out[index], expected, atol=1e-6, err_msg=f"image {index}")


def test_half_pixel_shift_interpolates_between_neighbours(noise: np.ndarray) -> None:
    out = affine_transform(noise, 0.0, 0.0, 0.5)
    # Column c reads the source at c - 0.5: the mean of columns c - 1 and c (0 left of the image).
    padded = np.concatenate([np.zeros_like(noise[:, :, :1]), noise], axis=2)
    np.testing.assert_allclose(out, (padded[:, :, :-1] + padded[:, :, 1:]) / 2, atol=1e-6)


def test_no_rotation_no_shift_returns_the_images(noise: np.ndarray) -> None:
    before = noise.copy()
    out = affine_transform(noise, 0, 0, 0)
    np.testing.assert_allclose(out, noise, atol=1e-6)
    assert out is not noise
    np.testing.assert_array_equal(noise, before)  # the input is left alone


def test_quarter_turn_moves_the_right_centre_to_the_top_centre() -> None:
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, 13:15, 24:26] = 1.0  # a 2x2 mark right of the centre (13.5, 13.5)
    out = affine_transform(image, 90, 0, 0)[0]
    expected = np.zeros((28, 28), dtype=np.float32)
    expected[2:4, 13:15] = 1.0  # above the centre: turned anticlockwise as seen on screen
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("degrees, quarter_turns", [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_whole_turns_match_numpy_rot90(
    noise: np.ndarray, degrees: float, quarter_turns: int
) -> None:
    # An asymmetric image everywhere: np.rot90 turns anticlockwise as displayed (rows down).
    out = affine_transform(noise, degrees, 0, 0)
    np.testing.assert_allclose(out, np.rot90(noise, quarter_turns, axes=(1, 2)), atol=1e-5)


def test_rotation_comes_before_the_shift() -> None:
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, 13:15, 24:26] = 1.0
    out = affine_transform(image, 90, 5, 0)[0]  # turn to the top centre, then 5 rows down
    expected = np.zeros((28, 28), dtype=np.float32)
    expected[7:9, 13:15] = 1.0
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_content_moved_out_of_the_frame_is_gone(noise: np.ndarray) -> None:
    assert not affine_transform(noise, 0, 28, 0).any()
    assert not affine_transform(noise, 0, 0, -30).any()


# ------------------------------------------------------------------------------------------
# augment_images


@pytest.mark.parametrize(
    "options",
    [{}, {"max_shift": 8, "max_rotation": 45}, {"max_shift": 0.5, "max_rotation": 0}],
)
def test_output_is_float32_unit_range_with_the_input_shape(
    digits: np.ndarray, options: dict
) -> None:
    before = digits.copy()
    out = augment_images(digits, np.random.default_rng(1), **options)
    assert out.dtype == np.float32
    assert out.shape == digits.shape
    assert out.min() >= 0.0
    assert out.max() <= 1.0
    assert not np.array_equal(out, digits)
    np.testing.assert_array_equal(digits, before)


def test_float64_images_come_back_as_float32(noise: np.ndarray) -> None:
    out = augment_images(noise.astype(np.float64), np.random.default_rng(0))
    assert out.dtype == np.float32
    assert out.shape == noise.shape


def test_zero_ranges_leave_the_images_unchanged(noise: np.ndarray) -> None:
    out = augment_images(noise, np.random.default_rng(0), max_shift=0, max_rotation=0)
    np.testing.assert_allclose(out, noise, atol=1e-6)


def test_same_seed_same_variants_other_seed_other_variants(digits: np.ndarray) -> None:
    first = augment_images(digits, np.random.default_rng(7))
    again = augment_images(digits, np.random.default_rng(7))
    other = augment_images(digits, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # Every image gets its own random move, not one move for the whole batch.
    moved = [not np.allclose(out, image) for out, image in zip(first, digits, strict=True)]
    assert all(moved)


@pytest.mark.parametrize("options", [{"max_shift": 0}, {"max_rotation": 0}])
def test_every_image_gets_its_own_random_move(digits: np.ndarray, options: dict) -> None:
    copies = np.repeat(digits[:1], 20, axis=0)
    out = augment_images(copies, np.random.default_rng(0), **options)
    assert len({image.tobytes() for image in out}) == 20


def test_successive_calls_on_one_generator_differ(digits: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    assert not np.array_equal(augment_images(digits, rng), augment_images(digits, rng))


def test_moves_stay_within_the_limits() -> None:
    # A single lit pixel at the centre: a shift moves it by at most max_shift in each direction.
    image = np.zeros((200, 28, 28), dtype=np.float32)
    image[:, 14, 14] = 1.0
    out = augment_images(image, np.random.default_rng(0), max_shift=2.0, max_rotation=0)
    rows, cols = np.mgrid[0:28, 0:28]
    mass = out.sum(axis=(1, 2))
    centre_r = (out * rows).sum(axis=(1, 2)) / mass
    centre_c = (out * cols).sum(axis=(1, 2)) / mass
    assert np.abs(centre_r - 14).max() <= 2.0 + 1e-4
    assert np.abs(centre_c - 14).max() <= 2.0 + 1e-4
    # ... and the moves use the range: some go more than a pixel each way.
    assert centre_r.min() < 13 and centre_r.max() > 15
    assert centre_c.min() < 13 and centre_c.max() > 15


def test_small_moves_roughly_keep_the_ink(digits: np.ndarray) -> None:
    out = augment_images(digits, np.random.default_rng(0))  # up to 2 px and 10 degrees
    before, after = digits.sum(axis=(1, 2)), out.sum(axis=(1, 2))
    assert after.mean() == pytest.approx(before.mean(), rel=0.01)
    # No single digit loses or gains much: MNIST digits sit in a 20x20 box with a 4-px margin.
    assert np.all(np.abs(after / before - 1) < 0.1)


# ------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((3, 28, 28), dtype=np.uint8),  # raw pixels, not scaled
        np.full((3, 28, 28), 255.0, dtype=np.float32),  # raw pixel values as floats
        np.zeros((28, 28), dtype=np.float32),  # a single image without a batch axis
        np.zeros((3, 27, 27), dtype=np.float32),
        np.zeros((3, 28, 28, 1), dtype=np.float32),
        np.zeros((0, 28, 28), dtype=np.float32),
    ],
    ids=["uint8", "raw-floats", "no-batch-axis", "27x27", "channel-axis", "empty"],
)
def test_bad_images_raise_input_error(images: np.ndarray) -> None:
    with pytest.raises(InputError, match="images"):
        affine_transform(images, 0, 0, 0)
    with pytest.raises(InputError, match="images"):
        augment_images(images, np.random.default_rng(0))


def test_flat_rows_are_refused_or_keep_their_shape(noise: np.ndarray) -> None:
    flat = noise.reshape(4, 784)
    try:
        out = affine_transform(flat, 0, 0, 0)
    except InputError as error:
        assert "images" in str(error)
    else:
        assert out.shape == flat.shape


@pytest.mark.parametrize(
    "name, value",
    [
        ("max_shift", -1),
        ("max_shift", -0.01),
        ("max_shift", 8.5),
        ("max_shift", 28),
        ("max_shift", float("nan")),
        ("max_shift", "2"),
        ("max_shift", None),
        ("max_shift", True),
        ("max_rotation", -5),
        ("max_rotation", 45.5),
        ("max_rotation", 90),
        ("max_rotation", float("inf")),
        ("max_rotation", False),
        ("max_rotation", [10]),
    ],
)
def test_bad_ranges_raise_input_error_naming_the_argument(
    noise: np.ndarray, name: str, value: object
) -> None:
    with pytest.raises(InputError, match=name):
        augment_images(noise, np.random.default_rng(0), **{name: value})


@pytest.mark.parametrize(
    "options",
    [{"max_shift": 0}, {"max_shift": 8}, {"max_rotation": 0}, {"max_rotation": 45.0}],
)
def test_range_limits_are_accepted(noise: np.ndarray, options: dict) -> None:
    assert augment_images(noise, np.random.default_rng(0), **options).shape == noise.shape
