"""The model registry: every network in the book, built by name.

Training, caching and the command line look models up here, so a later chapter adds its network
with ``@register_model("name")`` and nothing else changes. Builders take keyword hyper-parameters
and return an *uncompiled* Keras model; how it is trained is :mod:`mnist_lib.train`'s concern.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mnist_lib.errors import InputError, MnistError

if TYPE_CHECKING:
    import keras

ModelBuilder = Callable[..., "keras.Model"]

_REGISTRY: dict[str, ModelBuilder] = {}


def register_model(name: str) -> Callable[[ModelBuilder], ModelBuilder]:
    """Decorator that adds a model builder to the registry under ``name``."""

    def decorate(builder: ModelBuilder) -> ModelBuilder:
        if name in _REGISTRY and _REGISTRY[name] is not builder:
            raise MnistError(f"a model named {name!r} is already registered")
        _REGISTRY[name] = builder
        return builder

    return decorate


def available_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def build_model(name: str, **hyperparameters: Any) -> keras.Model:
    """Build the registered model ``name`` (uncompiled), passing its hyper-parameters through."""
    try:
        builder = _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_models())
        raise MnistError(f"unknown model {name!r}; the registered models are: {known}") from None
    return builder(**hyperparameters)


@register_model("seed_mlp")
def seed_mlp(
    hidden_activations: tuple[str, str, str] = ("relu", "sigmoid", "sigmoid"),
) -> keras.Model:
    """The book's reference network: 784 -> 128 -> 64 -> 32 -> 10, 111,146 parameters.

    Flatten turns each 28x28 image into 784 inputs; three hidden Dense layers (ReLU, sigmoid,
    sigmoid by default) and a softmax output that gives one probability per digit.
    ``hidden_activations`` lets the activations chapter swap the hidden activations while keeping
    the architecture.
    """
    import keras

    first, second, third = hidden_activations
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28), name="image"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(128, activation=first, name="hidden_128"),
            keras.layers.Dense(64, activation=second, name="hidden_64"),
            keras.layers.Dense(32, activation=third, name="hidden_32"),
            keras.layers.Dense(10, activation="softmax", name="digit_probabilities"),
        ],
        name="seed_mlp",
    )


# --------------------------------------------------------------------------------------------
# Looking inside a model

_TIMES = "\u00d7"  # the multiplication sign, as in 784 x 128


@dataclass(frozen=True)
class LayerRow:
    """One layer of a model and where its parameters come from."""

    name: str
    kind: str
    """The layer's class, e.g. ``"Dense"`` or ``"Flatten"``."""
    activation: str | None
    output_shape: tuple[int, ...]
    """Shape of the layer's output for one example (no batch axis)."""
    kernel_shape: tuple[int, ...] | None
    """Shape of the weight matrix (inputs, outputs) of a Dense layer; None without one."""
    weights: int
    """Entries of the weight matrix: inputs x outputs for a Dense layer."""
    biases: int
    parameters: int
    """All parameters of the layer (weights, biases and any others)."""


def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def layer_table(model: Any) -> list[LayerRow]:
    """One :class:`LayerRow` per layer of a built Keras model, in order.

    For a Dense layer with ``n_in`` inputs and ``n_out`` outputs, ``weights`` is ``n_in * n_out``
    and ``biases`` is ``n_out``; their sum is the layer's ``parameters``.
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        raise InputError(f"model must be a Keras model with layers; got {type(model).__name__}")
    rows = []
    for layer in layers:
        try:
            output_shape = tuple(int(d) for d in layer.output.shape[1:])
        except (AttributeError, ValueError, TypeError) as exc:
            raise InputError(
                f"layer {layer.name!r} has no known output shape; build the model first "
                "(give it a keras.Input)"
            ) from exc
        kernel = getattr(layer, "kernel", None)
        bias = getattr(layer, "bias", None)
        kernel_shape = tuple(int(d) for d in kernel.shape) if kernel is not None else None
        activation = layer.get_config().get("activation")
        rows.append(
            LayerRow(
                name=layer.name,
                kind=type(layer).__name__,
                activation=activation if isinstance(activation, str) else None,
                output_shape=output_shape,
                kernel_shape=kernel_shape,
                weights=_size(kernel_shape) if kernel_shape is not None else 0,
                biases=_size(bias.shape) if bias is not None else 0,
                parameters=int(layer.count_params()),
            )
        )
    return rows


def format_layer_table(rows: Sequence[LayerRow]) -> str:
    """A plain-text table of ``layer_table(model)``: weights written as inputs x outputs.

    Columns: layer name, activation, output size, weights, biases and ``params`` (all the layer's
    parameters). The layer's class is left out (the activation shows which layers are Dense), so
    that the table of the book's networks fits the book's text column, under 80 characters wide.
    The last line is the total number of parameters of the model.
    """
    header = ("layer", "activation", "output", "weights", "biases", "params")
    lines = []
    for row in rows:
        if row.kernel_shape is not None:
            factors = f" {_TIMES} ".join(str(d) for d in row.kernel_shape)
            weights = f"{factors} = {row.weights:,}"
        else:
            weights = "-"
        lines.append(
            (
                row.name,
                row.activation or "-",
                _TIMES.join(str(d) for d in row.output_shape),
                weights,
                f"{row.biases:,}" if row.kernel_shape is not None or row.biases else "-",
                f"{row.parameters:,}",
            )
        )
    total = sum(row.parameters for row in rows)
    footer = ("total", "", "", "", "", f"{total:,}")
    table = [header, *lines, footer]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    right = {2, 4, 5}  # numbers are right-aligned
    out = []
    for line in table:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def softmax(scores: Any, axis: int = -1) -> np.ndarray:
    """Turn scores into probabilities: ``exp(z_i) / sum_j exp(z_j)`` along ``axis``.

    The largest score is subtracted first; that changes nothing in the result (the factor
    ``exp(-max)`` cancels) but keeps ``exp`` from overflowing for large scores.
    """
    z = np.asarray(scores, dtype=np.float64)
    if z.size == 0 or not np.all(np.isfinite(z)):
        raise InputError("scores must be a non-empty array of finite numbers")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layer_outputs(model: Any, images: Any) -> dict[str, np.ndarray]:
    """Every layer's output for a batch of ``images``, by layer name, from one forward pass.

    A way to look inside a network: what each layer makes of its input. ``images`` must be what
    the model takes; for the book's models, scaled images of shape (N, 28, 28).
    """
    import keras

    layers = getattr(model, "layers", None)
    if not layers:
        raise InputError(f"model must be a Keras model with layers; got {type(model).__name__}")
    (inputs,) = model.inputs  # one input tensor: the images
    probe = keras.Model(inputs, [layer.output for layer in layers])
    outputs = probe(np.asarray(images, dtype=np.float32), training=False)
    return {layer.name: np.asarray(out) for layer, out in zip(layers, outputs, strict=True)}


class Saturation(NamedTuple):
    """How the seed network's first two hidden layers respond at the start, before training."""

    mean_abs_z1: float
    """Average size |z| of the 128 weighted sums of the first hidden layer (ReLU)."""
    mean_abs_z2: float
    """Average size |z| of the 64 weighted sums going into the first sigmoid layer."""
    saturated_share: float
    """Fraction of those sigmoid units whose slope is below the threshold: nearly no gradient."""


def initial_saturation(images: Any, *, seed: int = 0, threshold: float = 0.01) -> Saturation:
    """Feed ``images`` (raw or scaled, as given) through freshly initialised first layers.

    A NumPy replay of the start of ``seed_mlp``: 784 -> 128 ReLU -> 64 sigmoid, with weights
    drawn as Keras draws them by default (Glorot uniform, ``W ~ U(-a, a)`` with
    ``a = sqrt(6 / (n_in + n_out))``; biases 0). A sigmoid unit counts as saturated when its slope
    ``s (1 - s)`` is below ``threshold``; gradient descent can then barely change what feeds it.
    """
    x = np.asarray(images)
    if x.ndim < 2 or x.dtype.kind not in "iuf" or x.size == 0:
        raise InputError(f"images must be a non-empty numeric batch; got shape {x.shape}")
    x = x.reshape(len(x), -1).astype(np.float64)
    if x.shape[1] != 784:
        raise InputError(f"images must have 784 pixels each; got {x.shape[1]}")
    rng = np.random.default_rng(seed)
    a1, a2 = np.sqrt(6 / (784 + 128)), np.sqrt(6 / (128 + 64))
    w1 = rng.uniform(-a1, a1, size=(784, 128))
    w2 = rng.uniform(-a2, a2, size=(128, 64))
    z1 = x @ w1
    z2 = np.maximum(z1, 0) @ w2
    s = 0.5 * (1 + np.tanh(z2 / 2))  # the sigmoid, without overflow for large |z|
    saturated = float(np.mean(s * (1 - s) < threshold))
    return Saturation(float(np.abs(z1).mean()), float(np.abs(z2).mean()), saturated)
