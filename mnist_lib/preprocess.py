"""Scale, flatten, check and split images, so every model gets inputs in one known form.

The loader gives uint8 pixels 0..255 in (N, 28, 28); models want float32 in [0, 1]. The checks here
turn a wrong shape, dtype or value range (raw pixels where scaled ones belong, or the other way
round) into an :class:`~mnist_lib.errors.InputError` that says what was wrong and what to do,
instead of a silent bad fit or an obscure error deep inside a model.
"""

from __future__ import annotations

import numbers

import numpy as np

from mnist_lib.data import Split
from mnist_lib.errors import InputError

__all__ = [
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "NUM_PIXELS",
    "check_images",
    "check_labels",
    "count_shared_images",
    "flatten_images",
    "scale_images",
    "split_train_validation",
]

IMAGE_SHAPE = (28, 28)
NUM_PIXELS = 784
NUM_CLASSES = 10

_SHAPES_TEXT = "(N, 28, 28) or (N, 784)"


def _as_array(values: object, what: str) -> np.ndarray:
    """``np.asarray`` that reports ragged or odd input as an InputError."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what} cannot be read as an array ({exc})") from exc


def _check_image_shape(images: np.ndarray) -> None:
    """Accept a batch of square images or of flat 784-pixel rows, nothing else."""
    if images.ndim == 0 or images.shape[1:] not in (IMAGE_SHAPE, (NUM_PIXELS,)):
        raise InputError(
            f"images must have shape {_SHAPES_TEXT}; got {images.shape}{_shape_hint(images.shape)}"
        )


def _shape_hint(shape: tuple[int, ...]) -> str:
    """The likely mistake behind a wrong image shape, and its fix."""
    if shape in (IMAGE_SHAPE, (NUM_PIXELS,)):
        return " (a single image? add a batch axis: images[None])"
    if len(shape) == 4 and shape[1:3] == IMAGE_SHAPE:
        if shape[3] == 1:
            return " (a channel axis? drop it: images[..., 0])"
        return (
            f" ({shape[3]} channels: MNIST images are grayscale, one value per pixel; "
            "convert them to one channel)"
        )
    if len(shape) == 2 and shape[1] == NUM_PIXELS + 1:
        return " (one column too many: a label column? keep only the 784 pixels)"
    return ". Reshape to (N, 28, 28) images or (N, 784) rows"


def scale_images(images: np.ndarray) -> np.ndarray:
    """Map uint8 pixels 0..255 to float32 in [0, 1], keeping the shape."""
    images = _as_array(images, "images")
    if images.dtype != np.uint8:
        maximum = (
            f" with max {images.max():g}" if images.size and images.dtype.kind in "iuf" else ""
        )
        hint = " (already scaled?)" if images.dtype.kind == "f" else ""
        raise InputError(
            f"images must be uint8 in 0..255; got {images.dtype}{maximum}{hint}. "
            "Pass the arrays from load_mnist() unchanged"
        )
    _check_image_shape(images)
    return images.astype(np.float32) / np.float32(255)


def flatten_images(images: np.ndarray) -> np.ndarray:
    """Turn (N, 28, 28) into (N, 784) rows for models that take flat vectors; keeps the dtype."""
    images = _as_array(images, "images")
    _check_image_shape(images)
    return images.reshape(len(images), NUM_PIXELS)


def check_images(images: np.ndarray, *, scaled: bool = True) -> np.ndarray:
    """Validate what a model gets and return it as float32 (N, 28, 28).

    With ``scaled=True`` the images must be floats in [0, 1] (the output of ``scale_images``);
    with ``scaled=False`` raw pixel values, integer or float, in 0..255. Any other input (a
    nested list of such numbers works too) is an InputError that says what is wrong and how to
    fix it.
    """
    images = _as_array(images, "images")
    if images.size == 0 and images.ndim < 2:
        raise InputError("images is empty; give at least one image")
    _check_image_shape(images)
    if len(images) == 0:
        raise InputError("images is an empty batch; give at least one image")
    kind = images.dtype.kind
    if kind not in "iuf":
        what = "floats in [0, 1]" if scaled else "numbers"
        raise InputError(f"images must be {what}; got {images.dtype}{_dtype_hint(kind)}")
    if scaled and kind != "f":
        raise InputError(
            f"images must be floats in [0, 1]; got {images.dtype} "
            "(not scaled yet? call scale_images first)"
        )
    if kind == "f" and not np.isfinite(images).all():
        bad_rows = (~np.isfinite(images.reshape(len(images), -1))).any(axis=1)
        first = int(np.flatnonzero(bad_rows)[0])
        raise InputError(
            f"images contain NaN or infinite values (the first in image {first}); every pixel "
            "must be a number: check how these images were computed"
        )
    low, high = images.min(), images.max()
    top = 1 if scaled else 255
    if low < 0 or high > top:
        raise InputError(
            f"images must lie in [0, {top}]; got values from {low:g} to {high:g}"
            f"{_range_hint(low, high, scaled)}"
        )
    return images.astype(np.float32, copy=False).reshape(len(images), *IMAGE_SHAPE)


def _dtype_hint(kind: str) -> str:
    """How to turn an array of another kind into pixel numbers."""
    if kind == "b":
        return " (a mask? convert it: images.astype(np.float32))"
    if kind in "OUS":
        return (
            " (text or Python objects; build a numeric array, e.g. "
            "np.asarray(images, dtype=np.float32) / 255 for pixel values 0..255)"
        )
    return ""


def _range_hint(low: float, high: float, scaled: bool) -> str:
    """The likely mistake behind pixel values out of range, and its fix."""
    if scaled and high <= 255 and low >= 0:
        return (
            " (raw pixels? call scale_images on the uint8 images from load_mnist(),"
            " or divide by 255)"
        )
    if low < 0:
        return (
            " (standardized or centred? the models take pixel values scaled to [0, 1] with "
            "scale_images, nothing subtracted)"
        )
    return ""


def check_labels(
    labels: np.ndarray,
    n: int | None = None,
    *,
    name: str = "labels",
    num_classes: int = NUM_CLASSES,
    allow_empty: bool = True,
) -> np.ndarray:
    """Validate class labels: 1-D integers ``0..num_classes-1``, ``n`` of them when given.

    The one check every module uses, so a wrong label array gets the same clear message wherever
    it is passed; ``name`` is the argument's name in that message. Returns the array unchanged.
    """
    labels = _as_array(labels, name)
    if labels.ndim != 1:
        hint = ""
        if labels.ndim == 2 and labels.shape[1] == num_classes:
            hint = f" (one-hot? use {name}.argmax(axis=1))"
        elif labels.ndim == 2 and labels.shape[1] == 1:
            hint = f" (a column? use {name}.ravel())"
        raise InputError(f"{name} must be 1-D; got shape {labels.shape}{hint}")
    if labels.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty: there is nothing to evaluate; pass at least one label")
    if labels.dtype == np.bool_ or labels.dtype.kind not in "iu":
        raise InputError(
            f"{name} must be integers 0..{num_classes - 1}; got dtype {labels.dtype}. "
            f"Convert with {name}.astype(np.uint8) if the values are whole digits"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise InputError(
            f"{name} must be 0..{num_classes - 1}; got values from {labels.min()} to {labels.max()}"
        )
    if n is not None and len(labels) != n:
        raise InputError(f"expected {n} labels (one per image); got {len(labels)}")
    return labels


def split_train_validation(
    images: np.ndarray,
    labels: np.ndarray,
    validation_size: int | float = 0.1,
    seed: int = 0,
) -> tuple[Split, Split]:
    """Hold out a validation set by a seeded shuffle, so the split is the same on every run.

    ``validation_size`` is a count (int) or a fraction in (0, 1). Returns (train, validation).
    """
    images = _as_array(images, "images")
    if images.ndim == 0:
        raise InputError("images must be a batch (an array with a first axis)")
    labels = check_labels(labels, n=len(images))
    total = len(images)
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Real):
        raise InputError(f"validation_size must be a count or a fraction; got {validation_size!r}")
    if isinstance(validation_size, numbers.Integral):
        count = int(validation_size)
    elif 0 < validation_size < 1:
        count = round(total * float(validation_size))
    else:
        raise InputError(f"validation_size as a fraction must be in (0, 1); got {validation_size}")
    if not 0 < count < total:
        raise InputError(
            f"validation_size gives {count} of {total} examples; both parts need at least one"
        )
    order = np.random.default_rng(seed).permutation(total)
    held_out, kept = order[:count], order[count:]
    return Split(images[kept], labels[kept]), Split(images[held_out], labels[held_out])


def count_shared_images(first: np.ndarray, second: np.ndarray) -> int:
    """How many images of ``second`` also occur, pixel for pixel, in ``first``.

    A check for leaks between sets: a validation or test image that is also a training image
    would make the model look better than it is. Images are compared by their exact bytes, so
    both arrays must have the same dtype and image shape.
    """
    a, b = _as_array(first, "first"), _as_array(second, "second")
    _check_image_shape(a)
    _check_image_shape(b)
    if a.dtype != b.dtype or a.shape[1:] != b.shape[1:]:
        raise InputError(
            f"first and second must have the same dtype and image shape; got {a.dtype} "
            f"{a.shape[1:]} and {b.dtype} {b.shape[1:]}"
        )
    seen = {image.tobytes() for image in np.ascontiguousarray(a)}
    return sum(image.tobytes() in seen for image in np.ascontiguousarray(b))
