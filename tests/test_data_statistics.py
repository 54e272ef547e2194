"""Tests of the data summaries (mnist_lib.data) and the leak check (mnist_lib.preprocess)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib.data import (
    PixelStats,
    class_counts,
    format_class_counts,
    mean_images,
    pixel_stats,
)
from mnist_lib.errors import InputError
from mnist_lib.preprocess import count_shared_images, scale_images


@pytest.fixture()
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)


# --------------------------------------------------------------------------------------------------
# pixel_stats


def test_pixel_stats_of_raw_pixels_match_numpy(images: np.ndarray) -> None:
    images[0, :5] = 0  # some exact zeros
    stats = pixel_stats(images)
    assert isinstance(stats, PixelStats)
    assert stats.minimum == images.min() and stats.maximum == images.max()
    assert stats.mean == pytest.approx(images.mean(dtype=np.float64), rel=1e-12)
    assert stats.std == pytest.approx(images.std(dtype=np.float64), rel=1e-12)
    assert stats.zero_share == pytest.approx(np.mean(images == 0))
    assert stats.count == images.size


def test_pixel_stats_of_scaled_pixels_are_the_raw_ones_divided(images: np.ndarray) -> None:
    raw, scaled = pixel_stats(images), pixel_stats(scale_images(images))
    assert scaled.maximum == pytest.approx(raw.maximum / 255)
    assert scaled.mean == pytest.approx(raw.mean / 255, rel=1e-6)
    assert scaled.std == pytest.approx(raw.std / 255, rel=1e-6)
    assert scaled.zero_share == raw.zero_share


def test_pixel_stats_of_a_blank_image() -> None:
    stats = pixel_stats(np.zeros((1, 28, 28), dtype=np.uint8))
    assert stats == PixelStats(0.0, 0.0, 0.0, 0.0, 1.0, 784)


@pytest.mark.parametrize("bad", [np.zeros((0, 28, 28), np.uint8), np.array(["a", "b"])])
def test_pixel_stats_rejects_empty_or_non_numeric(bad: np.ndarray) -> None:
    with pytest.raises(InputError, match="non-empty numeric"):
        pixel_stats(bad)


# --------------------------------------------------------------------------------------------------
# class_counts and format_class_counts


def test_class_counts_counts_every_digit_including_absent_ones() -> None:
    counts = class_counts(np.array([0, 1, 1, 9, 9, 9], dtype=np.uint8))
    assert counts.tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3]
    assert counts.dtype == np.int64


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 10]), "digits 0..9"),
        (np.array([-1, 3]), "digits 0..9"),
        (np.array([0.0, 1.0]), "integer digits"),
        (np.zeros((3, 10), dtype=int), "1-D"),
    ],
)
def test_class_counts_rejects_bad_labels(labels: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        class_counts(labels)


def test_format_class_counts_table() -> None:
    train = np.repeat(np.arange(10), [3, 1, 1, 1, 1, 1, 1, 1, 1, 1989])
    test = np.arange(10)
    lines = format_class_counts({"training": train, "test": test}).splitlines()
    assert len(lines) == 12  # header, ten digits, total
    assert lines[0].split() == ["digit", "training", "test"]
    assert lines[1].split() == ["0", "3", "0.1%", "1", "10.0%"]
    assert lines[10].split() == ["9", "1,989", "99.5%", "1", "10.0%"]
    assert lines[11].split() == ["total", "2,000", "100%", "10", "100%"]
    # the columns line up: every line is as long as the header or shorter (no trailing blanks)
    assert all(line == line.rstrip() for line in lines)
    assert len({line.rindex("%") for line in lines[1:]}) == 1


def test_format_class_counts_needs_a_set() -> None:
    with pytest.raises(InputError, match="empty"):
        format_class_counts({})


# --------------------------------------------------------------------------------------------------
# mean_images


def test_mean_images_averages_each_digit_separately() -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    images[0], images[1] = 100, 200  # two images of digit 3
    labels = np.array([3, 3, 5, 5])
    images[2, 0, 0] = 50
    every_digit_images = np.concatenate([images, np.zeros((10, 28, 28), np.uint8)])
    every_digit_labels = np.concatenate([labels, np.arange(10)])
    means = mean_images(every_digit_images, every_digit_labels)
    assert means.shape == (10, 28, 28) and means.dtype == np.float64
    assert means[3] == pytest.approx(np.full((28, 28), 100.0))  # (100 + 200 + 0) / 3
    assert means[5][0, 0] == pytest.approx(50 / 3)
    assert means[0].max() == 0


def test_mean_images_needs_every_digit(images: np.ndarray) -> None:
    with pytest.raises(InputError, match=r"digit\(s\) \[9\]"):
        mean_images(images[:9], np.arange(9))


def test_mean_images_checks_shapes(images: np.ndarray) -> None:
    with pytest.raises(InputError, match="20 images but 10 labels"):
        mean_images(images, np.arange(10))
    with pytest.raises(InputError, match=r"shape \(N, 28, 28\)"):
        mean_images(images.reshape(20, 784), np.arange(20) % 10)


# --------------------------------------------------------------------------------------------------
# count_shared_images


def test_count_shared_images(images: np.ndarray) -> None:
    assert count_shared_images(images[:10], images[10:]) == 0
    assert count_shared_images(images[:10], images[5:15]) == 5
    assert count_shared_images(images, images[[0, 0, 1]]) == 3  # every copy counts
    flat = images.reshape(20, 784)
    assert count_shared_images(flat[:10], flat[8:]) == 2


def test_count_shared_images_refuses_different_kinds(images: np.ndarray) -> None:
    with pytest.raises(InputError, match="same dtype and image shape"):
        count_shared_images(images, scale_images(images))
    with pytest.raises(InputError, match="same dtype and image shape"):
        count_shared_images(images, images.reshape(20, 784))
    with pytest.raises(InputError, match="must have shape"):
        count_shared_images(images, images[0])
