"""Tests of scaling, flattening, input checks and the train/validation split."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib.data import Split
from mnist_lib.errors import InputError
from mnist_lib.preprocess import (
    IMAGE_SHAPE,
    NUM_CLASSES,
    NUM_PIXELS,
    check_images,
    check_labels,
    flatten_images,
    scale_images,
    split_train_validation,
)


@pytest.fixture()
def raw() -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    return images


def test_constants() -> None:
    assert IMAGE_SHAPE == (28, 28)
    assert NUM_PIXELS == 784
    assert NUM_CLASSES == 10


@pytest.mark.parametrize("flat", [False, True])
def test_scale_images_maps_to_float32_unit_range(raw: np.ndarray, flat: bool) -> None:
    images = raw.reshape(6, 784) if flat else raw
    scaled = scale_images(images)
    assert scaled.dtype == np.float32
    assert scaled.shape == images.shape
    assert scaled.min() == 0.0
    assert scaled.max() == 1.0
    np.testing.assert_allclose(scaled * 255, images, atol=1e-4)
    assert images.dtype == np.uint8  # the input is left alone


def test_flatten_images_keeps_dtype_and_order(raw: np.ndarray) -> None:
    flat = flatten_images(raw)
    assert flat.shape == (6, 784)
    assert flat.dtype == np.uint8
    np.testing.assert_array_equal(flat[2, 28:56], raw[2, 1])
    scaled_flat = flatten_images(scale_images(raw))
    assert scaled_flat.dtype == np.float32
    np.testing.assert_array_equal(flatten_images(flat), flat)  # already flat: unchanged


def test_check_images_returns_float32_square_images(raw: np.ndarray) -> None:
    scaled = scale_images(raw)
    for given in (scaled, scaled.reshape(6, 784), scaled.astype(np.float64)):
        checked = check_images(given)
        assert checked.dtype == np.float32
        assert checked.shape == (6, 28, 28)
        np.testing.assert_array_equal(checked, scaled)
    raw_checked = check_images(raw, scaled=False)
    assert raw_checked.dtype == np.float32
    assert raw_checked.max() == 255.0


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((3, 28, 28)), r"uint8 in 0\.\.255; got float64 with max 0 \(already scaled\?\)"),
        (np.ones((3, 784), np.float32), r"got float32 with max 1 \(already scaled\?\)"),
        (np.zeros((3, 28, 28), np.int64), "got int64"),
        (np.zeros((3, 28, 27), np.uint8), r"shape \(N, 28, 28\) or \(N, 784\); got \(3, 28, 27\)"),
        (np.zeros((28, 28), np.uint8), r"got \(28, 28\)"),
        (np.zeros(784, np.uint8), r"single image\?"),
    ],
)
def test_scale_images_rejects(images: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        scale_images(images)


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        scale_images(np.zeros((1, 28, 28)))


@pytest.mark.parametrize(
    "images",
    [np.zeros((2, 27, 28)), np.zeros((2, 783)), np.zeros((28, 28)), np.zeros((2, 1, 28, 28))],
)
def test_flatten_images_rejects_shapes(images: np.ndarray) -> None:
    with pytest.raises(InputError, match="shape"):
        flatten_images(images)


def _with(value: float) -> np.ndarray:
    images = np.zeros((2, 28, 28), np.float32)
    images[1, 3, 4] = value
    return images


@pytest.mark.parametrize(
    ("images", "scaled", "message"),
    [
        (np.zeros((2, 28, 28), np.uint8), True, r"floats in \[0, 1\]; got uint8 \(not scaled yet"),
        (_with(255.0), True, r"from 0 to 255 \(raw pixels\? call scale_images"),
        (_with(-0.5), True, r"\[0, 1\]; got values from -0.5 to 0"),
        (_with(np.nan), True, "NaN or infinite"),
        (_with(np.inf), False, "NaN or infinite"),
        (_with(256.0), False, r"\[0, 255\]"),
        (np.zeros((0, 28, 28), np.float32), True, "empty batch"),
        (np.zeros((2, 28, 28), bool), True, "got bool"),
        (np.zeros((2, 28, 28), bool), False, "must be numbers"),
        (np.zeros((2, 28, 28), complex), False, "must be numbers"),
        (np.zeros((2, 10), np.float32), True, r"got \(2, 10\)"),
        ([[0.0, 1.0], [0.5]], True, "cannot be read as an array"),
    ],
)
def test_check_images_rejects(images: object, scaled: bool, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_images(images, scaled=scaled)  # type: ignore[arg-type]


def test_check_labels_accepts_integer_digits() -> None:
    labels = np.array([0, 9, 3], dtype=np.int64)
    assert check_labels(labels, n=3) is labels
    np.testing.assert_array_equal(check_labels([1, 2]), [1, 2])


@pytest.mark.parametrize(
    ("labels", "n", "message"),
    [
        (np.array([0, 10]), None, "from 0 to 10"),
        (np.array([-1, 3]), None, "from -1 to 3"),
        (np.array([1.0, 2.0]), None, r"integers 0\.\.9; got dtype float64"),
        (np.eye(10, dtype=np.uint8)[:3], None, r"1-D; got shape \(3, 10\) \(one-hot\?"),
        (np.array(3), None, "1-D"),
        (np.array([1, 2, 3]), 4, "expected 4 labels"),
    ],
)
def test_check_labels_rejects(labels: np.ndarray, n: int | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_labels(labels, n)


def _indexed(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose first pixel is their index, so the split can be traced back."""
    images = np.zeros((n, 28, 28), np.uint16)
    images[:, 0, 0] = np.arange(n)
    return images, np.arange(n) % 10


def test_split_sizes_no_overlap_and_union_is_everything() -> None:
    images, labels = _indexed(200)
    train, validation = split_train_validation(images, labels, validation_size=0.25, seed=3)
    assert isinstance(train, Split)
    assert isinstance(validation, Split)
    assert len(train.images) == len(train.labels) == 150
    assert len(validation.images) == len(validation.labels) == 50
    train_ids = set(train.images[:, 0, 0].tolist())
    validation_ids = set(validation.images[:, 0, 0].tolist())
    assert not train_ids & validation_ids
    assert train_ids | validation_ids == set(range(200))
    # labels still belong to their images
    np.testing.assert_array_equal(train.labels, train.images[:, 0, 0] % 10)
    np.testing.assert_array_equal(validation.labels, validation.images[:, 0, 0] % 10)


def test_split_is_deterministic_per_seed() -> None:
    images, labels = _indexed(100)
    first = split_train_validation(images, labels, validation_size=10, seed=7)
    again = split_train_validation(images, labels, validation_size=10, seed=7)
    other = split_train_validation(images, labels, validation_size=10, seed=8)
    np.testing.assert_array_equal(first[1].images, again[1].images)
    np.testing.assert_array_equal(first[0].labels, again[0].labels)
    assert not np.array_equal(first[1].images, other[1].images)
    assert len(first[1].labels) == 10


def test_split_default_is_a_tenth() -> None:
    images, labels = _indexed(50)
    train, validation = split_train_validation(images, labels)
    assert (len(train.labels), len(validation.labels)) == (45, 5)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (0, "gives 0 of 20"),
        (20, "gives 20 of 20"),
        (0.0, r"fraction must be in \(0, 1\)"),
        (1.5, r"fraction must be in \(0, 1\)"),
        (0.01, "gives 0 of 20"),
        (True, "count or a fraction"),
        ("0.1", "count or a fraction"),
    ],
)
def test_split_rejects_bad_sizes(size: object, message: str) -> None:
    images, labels = _indexed(20)
    with pytest.raises(InputError, match=message):
        split_train_validation(images, labels, validation_size=size)  # type: ignore[arg-type]


def test_split_rejects_mismatched_or_bad_labels() -> None:
    images, labels = _indexed(20)
    with pytest.raises(InputError, match="expected 20 labels"):
        split_train_validation(images, labels[:-1])
    with pytest.raises(InputError, match=r"0\.\.9"):
        split_train_validation(images, labels + 5)
