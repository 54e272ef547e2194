"""Data augmentation: new, slightly moved and turned copies of the training digits every epoch.

A digit shifted by a pixel or two, or turned by a few degrees, is still the same digit, and the
test set is full of such variation. Showing the network a fresh random variant of each training
image every epoch teaches it that variation does not matter, instead of letting it memorise the
exact pixels of 54,000 images.

The transform is done in NumPy, on the whole batch at once: each output pixel is looked up at its
rotated and shifted position in the source image, with bilinear interpolation; what falls outside
the source is background (0). It is deterministic for a given random generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_lib.errors import InputError
from mnist_lib.preprocess import check_images

__all__ = ["affine_transform", "augment_images", "check_augmentation"]


MAX_SHIFT = 8.0
MAX_ROTATION = 45.0


def check_augmentation(max_shift: Any = 2.0, max_rotation: Any = 10.0) -> None:
    """Refuse settings that would no longer leave a recognisable digit, before any training."""
    _check_range(max_shift, "max_shift", MAX_SHIFT)
    _check_range(max_rotation, "max_rotation", MAX_ROTATION)


def _check_range(value: Any, name: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= limit:
        raise InputError(f"{name} must be a number from 0 to {limit:g}; got {value!r}")
    return float(value)


def _per_image(values: Any, name: str, n: int) -> np.ndarray:
    try:
        array = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
    except (ValueError, TypeError) as error:
        raise InputError(f"{name} must be one number or one per image ({n}); {error}") from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} must be finite numbers")
    return array


def affine_transform(
    images: np.ndarray, degrees: Any, shift_rows: Any, shift_cols: Any
) -> np.ndarray:
    """Rotate each image about its centre by ``degrees[i]`` (anticlockwise), then shift it.

    ``images`` are scaled float images (N, 28, 28); the three others are one value per image
    (shifts in pixels, positive means down and right). Returns a new float32 array.
    """
    if np.ndim(images) != 3:
        raise InputError(f"images must have shape (N, 28, 28); got {np.shape(images)}")
    x = check_images(images, scaled=True)
    n, height, width = x.shape
    angles = np.deg2rad(_per_image(degrees, "degrees", n))
    dy = _per_image(shift_rows, "shift_rows", n)
    dx = _per_image(shift_cols, "shift_cols", n)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    # Inverse map: where in the source does each output pixel come from?
    r = rows[None] - cy - dy[:, None, None]
    c = cols[None] - cx - dx[:, None, None]
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # Rows grow downwards: for 90 degrees, the top centre is read from the right centre.
    src_r = cos * r + sin * c + cy
    src_c = -sin * r + cos * c + cx
    r0 = np.floor(src_r).astype(np.intp)
    c0 = np.floor(src_c).astype(np.intp)
    fr = (src_r - r0).astype(np.float32)
    fc = (src_c - c0).astype(np.float32)
    # pad by one pixel of background on every side so neighbours outside the image read 0
    padded = np.zeros((n, height + 2, width + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = x
    r0 = np.clip(r0 + 1, 0, height)
    c0 = np.clip(c0 + 1, 0, width)
    outside = (src_r <= -1) | (src_r >= height) | (src_c <= -1) | (src_c >= width)
    index = np.arange(n)[:, None, None]
    top = padded[index, r0, c0] * (1 - fc) + padded[index, r0, c0 + 1] * fc
    bottom = padded[index, r0 + 1, c0] * (1 - fc) + padded[index, r0 + 1, c0 + 1] * fc
    out = top * (1 - fr) + bottom * fr
    out[outside] = 0.0
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def augment_images(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    max_shift: float = 2.0,
    max_rotation: float = 10.0,
) -> np.ndarray:
    """A random variant of every image: shifted by up to ``max_shift`` pixels in each direction
    and turned by up to ``max_rotation`` degrees either way, all drawn uniformly from ``rng``."""
    max_shift = _check_range(max_shift, "max_shift", MAX_SHIFT)
    max_rotation = _check_range(max_rotation, "max_rotation", MAX_ROTATION)
    n = len(images)
    degrees = rng.uniform(-max_rotation, max_rotation, n)
    shift_rows = rng.uniform(-max_shift, max_shift, n)
    shift_cols = rng.uniform(-max_shift, max_shift, n)
    return affine_transform(images, degrees, shift_rows, shift_cols)
