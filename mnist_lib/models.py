"""The model registry: every network in the book, built by name.

Training, caching and the command line look models up here, so a later chapter adds its network
with ``@register_model("name")`` and nothing else changes. Builders take keyword hyper-parameters
and return an *uncompiled* Keras model; how it is trained is :mod:`mnist_lib.train`'s concern.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mnist_lib.errors import InputError, MnistError

if TYPE_CHECKING:
    import keras

ModelBuilder = Callable[..., "keras.Model"]

_REGISTRY: dict[str, ModelBuilder] = {}
_WITHOUT_XLA: set[str] = set()
_THREADS: dict[str, int] = {}


def register_model(
    name: str, *, xla: bool = True, threads: int = 1
) -> Callable[[ModelBuilder], ModelBuilder]:
    """Decorator that adds a model builder to the registry under ``name``.

    ``xla=False`` makes :mod:`mnist_lib.train` run the model's training step without XLA
    compilation (see :func:`compiles_with_xla`); ``threads`` is how many threads each
    TensorFlow operation uses when the model is trained (see :func:`training_threads`).
    """
    if not isinstance(threads, int) or threads < 1:
        raise MnistError(f"threads must be a positive count; got {threads!r}")

    def decorate(builder: ModelBuilder) -> ModelBuilder:
        if name in _REGISTRY and _REGISTRY[name] is not builder:
            raise MnistError(f"a model named {name!r} is already registered")
        _REGISTRY[name] = builder
        _WITHOUT_XLA.discard(name)
        if not xla:
            _WITHOUT_XLA.add(name)
        _THREADS[name] = threads
        return builder

    return decorate


def available_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def _builder(name: str) -> ModelBuilder:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_models())
        raise MnistError(f"unknown model {name!r}; the registered models are: {known}") from None


def build_model(name: str, **hyperparameters: Any) -> keras.Model:
    """Build the registered model ``name`` (uncompiled), passing its hyper-parameters through."""
    return _builder(name)(**hyperparameters)


def compiles_with_xla(name: str, model_params: Mapping[str, Any] | None = None) -> bool:
    """Whether training compiles the model's step with XLA.

    True for dense networks, where XLA removes most of the per-step overhead. False for the
    convolutional networks: TensorFlow cannot run XLA's max-pooling gradient with op determinism
    on, and with one thread per op TensorFlow's own convolution kernels were faster on a 2-core
    CPU anyway (34 ms against 49 ms per step of 128 images). False too for any model with
    dropout (``model_params["dropout"]``): XLA's random numbers for the dropout masks made an
    epoch of the reference network six times slower on a CPU (8.5 s against 1.4 s without XLA).
    """
    _builder(name)  # an unknown name is an error here too
    if model_params and model_params.get("dropout"):
        return False
    return name not in _WITHOUT_XLA


def training_threads(name: str) -> int:
    """How many threads each TensorFlow operation uses while the model trains.

    1 for dense networks: their matrix products are too small to split profitably (one thread
    per op was about twice as fast). 2 for the convolutional networks, whose convolutions are
    big enough: 2 threads made a training step about 1.4 times faster on a 2-core CPU. The
    count is part of what makes training reproducible, so it is fixed per model, not per
    machine; :func:`mnist_lib.train.trained_model` trains a model whose count differs from the
    running process's in a worker process (:mod:`mnist_lib.worker`).
    """
    _builder(name)
    return _THREADS.get(name, 1)


def _regularizer(l2: float) -> Any:
    import keras

    if l2 < 0:
        raise InputError(f"l2 must be 0 or a small positive factor such as 1e-4; got {l2}")
    return keras.regularizers.L2(l2) if l2 else None


def _digit_probabilities(l2: float) -> Any:
    """The output layer every network of the book ends with: one probability per digit."""
    import keras

    return keras.layers.Dense(
        10, activation="softmax", kernel_regularizer=_regularizer(l2), name="digit_probabilities"
    )


def _check_dropout(dropout: float) -> None:
    if not 0 <= dropout < 1:
        raise InputError(f"dropout must be a rate in [0, 1), such as 0.25; got {dropout}")


@register_model("seed_mlp")
def seed_mlp(
    hidden_activations: tuple[str, str, str] = ("relu", "sigmoid", "sigmoid"),
    *,
    dropout: float = 0.0,
    l2: float = 0.0,
    batch_norm: bool = False,
) -> keras.Model:
    """The book's reference network: 784 -> 128 -> 64 -> 32 -> 10, 111,146 parameters.

    Flatten turns each 28x28 image into 784 inputs; three hidden Dense layers (ReLU, sigmoid,
    sigmoid by default) and a softmax output that gives one probability per digit.
    ``hidden_activations`` lets the activations chapter swap the hidden activations while keeping
    the architecture. The regularization chapter's options, all off by default: ``dropout`` (a
    Dropout layer of that rate after each hidden layer), ``l2`` (a weight penalty
    ``l2 * sum(w**2)`` on every weight matrix) and ``batch_norm`` (BatchNormalization between each
    hidden layer's weighted sum and its activation).
    """
    import keras

    _check_dropout(dropout)
    if len(hidden_activations) != 3:
        raise InputError(
            f"hidden_activations must name 3 activations; got {list(hidden_activations)}"
        )
    layers: list[Any] = [keras.Input(shape=(28, 28), name="image")]
    layers.append(keras.layers.Flatten(name="flatten"))
    for units, activation in zip((128, 64, 32), hidden_activations, strict=True):
        name = f"hidden_{units}"
        regularizer = _regularizer(l2)
        if batch_norm:
            # the bias is kept (unlike in cnn, where it is dropped): the normalisation's own
            # shift makes it redundant, but the chapters' measured runs were made with it
            layers.append(
                keras.layers.Dense(units, kernel_regularizer=regularizer, name=f"{name}_sum")
            )
            layers.append(keras.layers.BatchNormalization(name=f"{name}_norm"))
            layers.append(keras.layers.Activation(activation, name=name))
        else:
            layers.append(
                keras.layers.Dense(
                    units, activation=activation, kernel_regularizer=regularizer, name=name
                )
            )
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"{name}_dropout"))
    layers.append(_digit_probabilities(l2))
    return keras.Sequential(layers, name="seed_mlp")


@register_model("cnn", xla=False, threads=2)
def cnn(
    filters: tuple[int, ...] = (32, 64),
    *,
    convs_per_block: int = 1,
    kernel_size: int = 3,
    dense_units: int = 128,
    dropout: float = 0.0,
    l2: float = 0.0,
    batch_norm: bool = False,
) -> keras.Model:
    """A small convolutional network: blocks of 3x3 convolutions, each block ending in pooling.

    Each entry of ``filters`` is a block: ``convs_per_block`` convolutions of that many filters
    (ReLU; no padding, so each 3x3 convolution trims a pixel from every edge), then 2x2 max
    pooling, which halves the map: 28 -> 26 -> 13 -> 11 -> 5 with the defaults. Then one
    Dense layer of ``dense_units`` and the softmax output. The regularization options are off
    by default: ``batch_norm`` puts BatchNormalization between
    every weighted sum and its ReLU, ``dropout`` adds Dropout after each block (at half the rate)
    and before the output, ``l2`` penalises every kernel.
    """
    import keras

    _check_dropout(dropout)
    if not filters or any(not isinstance(f, int) or f < 1 for f in filters):
        raise InputError(f"filters must be positive counts, one per block; got {filters}")
    if kernel_size < 1 or convs_per_block < 1:
        raise InputError("kernel_size and convs_per_block must be at least 1")
    size = 28
    for _ in filters:
        size = (size - convs_per_block * (kernel_size - 1)) // 2
        if size < 1:
            raise InputError(
                f"{len(filters)} blocks of {convs_per_block} {kernel_size}x{kernel_size} "
                "convolutions and a pooling shrink a 28x28 image to nothing; use fewer blocks"
            )
    layers: list[Any] = [
        keras.Input(shape=(28, 28), name="image"),
        keras.layers.Reshape((28, 28, 1), name="channel"),
    ]

    def weighted_sum(layer: Any, name: str) -> None:
        if batch_norm:
            layers.append(layer)
            layers.append(keras.layers.BatchNormalization(name=f"{name}_norm"))
            layers.append(keras.layers.Activation("relu", name=f"{name}_relu"))
        else:
            layers.append(layer)

    activation = None if batch_norm else "relu"
    for block, count in enumerate(filters, start=1):
        for index in range(1, convs_per_block + 1):
            name = f"conv{block}" if convs_per_block == 1 else f"conv{block}_{index}"
            conv = keras.layers.Conv2D(
                count,
                kernel_size,
                padding="valid",
                activation=activation,
                use_bias=not batch_norm,
                kernel_regularizer=_regularizer(l2),
                name=name,
            )
            weighted_sum(conv, name)
        layers.append(keras.layers.MaxPooling2D(2, name=f"pool{block}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout / 2, name=f"dropout{block}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    dense = keras.layers.Dense(
        dense_units,
        activation=activation,
        use_bias=not batch_norm,
        kernel_regularizer=_regularizer(l2),
        name="dense",
    )
    weighted_sum(dense, "dense")
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="dropout_dense"))
    layers.append(_digit_probabilities(l2))
    return keras.Sequential(layers, name="cnn")


# --------------------------------------------------------------------------------------------
# Looking inside a model

_TIMES = "\u00d7"  # the multiplication sign, as in 784 x 128
MAX_TABLE_WIDTH = 77
"""A code output of 77 characters (the reference network's table) fits the book's page."""


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
    that the table of the book's networks fits the book's text column (``MAX_TABLE_WIDTH``).
    The last line is the total number of parameters of the model.
    """
    header = ("layer", "activation", "output", "weights", "biases", "params")
    lines = []
    for row in rows:
        if row.kernel_shape is not None:
            # a Dense kernel reads "784 x 128" (with the multiplication sign); a convolution's
            # four factors are written tight, like the output shapes, to keep the table narrow
            joint = f" {_TIMES} " if len(row.kernel_shape) <= 2 else _TIMES
            factors = joint.join(str(d) for d in row.kernel_shape)
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
    # two spaces between columns; one where that keeps a wide table (a CNN's) in the text column
    gap = "  " if sum(widths) + 2 * (len(widths) - 1) <= MAX_TABLE_WIDTH else " "
    out = []
    for line in table:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append(gap.join(cells).rstrip())
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
