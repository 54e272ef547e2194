"""Tests of the regularization options of seed_mlp, the cnn model and XLA registration
(mnist_lib.models)."""

from __future__ import annotations

import numpy as np
import pytest
from test_models import SEED_LAYERS

from mnist_lib import models
from mnist_lib.errors import InputError, MnistError
from mnist_lib.models import (
    available_models,
    build_model,
    compiles_with_xla,
    layer_table,
    register_model,
)

SEED_NAMES = ["flatten", "hidden_128", "hidden_64", "hidden_32", "digit_probabilities"]
SEED_PARAMS = 111_146


@pytest.fixture()
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of the registry and of its no-XLA set that tests may add to."""
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    monkeypatch.setattr(models, "_WITHOUT_XLA", set(models._WITHOUT_XLA))


def names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def probabilities(model, n: int = 3) -> np.ndarray:
    images = np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)
    return np.asarray(model(images, training=False))


def l2_penalties(model, factor: float) -> list[float]:
    """``factor * sum(w**2)`` of every kernel, in layer order."""
    kernels = [layer.kernel for layer in model.layers if getattr(layer, "kernel", None) is not None]
    return [factor * float(np.sum(np.square(np.asarray(k)))) for k in kernels]


# ------------------------------------------------------------------------------------------
# seed_mlp: the options are off by default


@pytest.mark.parametrize(
    "options", [{}, {"dropout": 0.0, "l2": 0.0, "batch_norm": False}], ids=["defaults", "explicit"]
)
def test_seed_mlp_defaults_are_the_reference_network(options: dict) -> None:
    model = build_model("seed_mlp", **options)
    assert names(model) == SEED_NAMES
    assert [type(layer).__name__ for layer in model.layers] == [row[0] for row in SEED_LAYERS]
    assert [count(layer.trainable_weights) for layer in model.layers] == [
        row[3] for row in SEED_LAYERS
    ]
    assert model.count_params() == SEED_PARAMS
    assert not model.non_trainable_weights
    assert list(model.losses) == []
    assert all(layer.get_config().get("kernel_regularizer") is None for layer in model.layers[1:])


def test_seed_mlp_dropout_after_each_hidden_layer() -> None:
    model = build_model("seed_mlp", dropout=0.3)
    assert names(model) == [
        "flatten",
        "hidden_128",
        "hidden_128_dropout",
        "hidden_64",
        "hidden_64_dropout",
        "hidden_32",
        "hidden_32_dropout",
        "digit_probabilities",
    ]
    rates = [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.3, 0.3, 0.3]
    assert model.count_params() == SEED_PARAMS
    # Dropout acts in training only: prediction is deterministic.
    np.testing.assert_array_equal(probabilities(model), probabilities(model))


def test_seed_mlp_batch_norm_between_sum_and_activation() -> None:
    model = build_model("seed_mlp", hidden_activations=("relu", "tanh", "sigmoid"), batch_norm=True)
    assert names(model) == [
        "flatten",
        "hidden_128_sum",
        "hidden_128_norm",
        "hidden_128",
        "hidden_64_sum",
        "hidden_64_norm",
        "hidden_64",
        "hidden_32_sum",
        "hidden_32_norm",
        "hidden_32",
        "digit_probabilities",
    ]
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    assert kinds["hidden_64_sum"] == "Dense"
    assert kinds["hidden_64_norm"] == "BatchNormalization"
    assert kinds["hidden_64"] == "Activation"
    # The weighted sums are linear; the activation comes after the normalisation.
    config = {layer.name: layer.get_config() for layer in model.layers}
    assert [config[f"hidden_{u}_sum"]["activation"] for u in (128, 64, 32)] == ["linear"] * 3
    assert [config[f"hidden_{u}"]["activation"] for u in (128, 64, 32)] == [
        "relu",
        "tanh",
        "sigmoid",
    ]
    # Each normalised unit has a scale and an offset (trained) and a running mean and variance;
    # the weighted sums keep their biases.
    units = 128 + 64 + 32
    assert [config[f"hidden_{u}_sum"]["use_bias"] for u in (128, 64, 32)] == [True] * 3
    assert count(model.trainable_weights) == SEED_PARAMS + 2 * units
    assert count(model.non_trainable_weights) == 2 * units
    probs = probabilities(model)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_seed_mlp_l2_penalises_every_weight_matrix() -> None:
    model = build_model("seed_mlp", l2=1e-3)
    assert names(model) == SEED_NAMES
    assert model.count_params() == SEED_PARAMS
    losses = [float(loss) for loss in model.losses]
    assert len(losses) == 4  # three hidden layers and the output
    np.testing.assert_allclose(losses, l2_penalties(model, 1e-3), rtol=1e-5)
    assert all(loss > 0 for loss in losses)


def test_seed_mlp_all_options_together() -> None:
    model = build_model("seed_mlp", dropout=0.2, l2=1e-4, batch_norm=True)
    assert names(model)[1:5] == [
        "hidden_128_sum",
        "hidden_128_norm",
        "hidden_128",
        "hidden_128_dropout",
    ]
    assert len(model.losses) == 4
    assert probabilities(model).shape == (3, 10)


@pytest.mark.parametrize("model_name", ["seed_mlp", "cnn"])
@pytest.mark.parametrize(
    "options, argument",
    [
        ({"dropout": -0.1}, "dropout"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": 1.5}, "dropout"),
        ({"l2": -1e-4}, "l2"),
    ],
)
def test_bad_regularization_raises_input_error(
    model_name: str, options: dict, argument: str
) -> None:
    with pytest.raises(InputError, match=argument):
        build_model(model_name, **options)


# ------------------------------------------------------------------------------------------
# cnn

CONV1 = 3 * 3 * 1 * 32 + 32
CONV2 = 3 * 3 * 32 * 64 + 64
DENSE = 5 * 5 * 64 * 128 + 128
OUTPUT = 128 * 10 + 10


def test_cnn_is_registered_and_builds_uncompiled() -> None:
    assert "cnn" in available_models()
    model = build_model("cnn")
    assert model.name == "cnn"
    assert not model.compiled
    assert build_model("cnn") is not model
    assert tuple(model.input_shape) == (None, 28, 28)
    assert tuple(model.output_shape) == (None, 10)


def test_cnn_default_layers_and_shapes() -> None:
    rows = [(row.name, row.kind, row.output_shape) for row in layer_table(build_model("cnn"))]
    assert rows == [
        ("channel", "Reshape", (28, 28, 1)),
        ("conv1", "Conv2D", (26, 26, 32)),
        ("pool1", "MaxPooling2D", (13, 13, 32)),
        ("conv2", "Conv2D", (11, 11, 64)),
        ("pool2", "MaxPooling2D", (5, 5, 64)),
        ("flatten", "Flatten", (1600,)),
        ("dense", "Dense", (128,)),
        ("digit_probabilities", "Dense", (10,)),
    ]


def test_cnn_default_parameter_count() -> None:
    model = build_model("cnn")
    params = {row.name: row.parameters for row in layer_table(model)}
    assert (params["conv1"], params["conv2"], params["dense"]) == (CONV1, CONV2, DENSE)
    assert params["digit_probabilities"] == OUTPUT
    assert model.count_params() == CONV1 + CONV2 + DENSE + OUTPUT == 225_034
    assert count(model.trainable_weights) == 225_034
    kernels = {layer.name: tuple(layer.kernel.shape) for layer in model.layers[1:4:2]}
    assert kernels == {"conv1": (3, 3, 1, 32), "conv2": (3, 3, 32, 64)}


def test_cnn_activations_and_valid_padding() -> None:
    config = {layer.name: layer.get_config() for layer in build_model("cnn").layers}
    assert config["conv1"]["padding"] == config["conv2"]["padding"] == "valid"
    assert config["conv1"]["activation"] == config["dense"]["activation"] == "relu"
    assert config["digit_probabilities"]["activation"] == "softmax"
    assert tuple(config["pool1"]["pool_size"]) == (2, 2)


def test_cnn_outputs_probabilities() -> None:
    probs = probabilities(build_model("cnn"), n=5)
    assert probs.shape == (5, 10)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_two_convolutions_per_block() -> None:
    model = build_model("cnn", convs_per_block=2)
    rows = [(row.name, row.output_shape, row.parameters) for row in layer_table(model)]
    assert rows == [
        ("channel", (28, 28, 1), 0),
        ("conv1_1", (26, 26, 32), 3 * 3 * 1 * 32 + 32),
        ("conv1_2", (24, 24, 32), 3 * 3 * 32 * 32 + 32),
        ("pool1", (12, 12, 32), 0),
        ("conv2_1", (10, 10, 64), 3 * 3 * 32 * 64 + 64),
        ("conv2_2", (8, 8, 64), 3 * 3 * 64 * 64 + 64),
        ("pool2", (4, 4, 64), 0),
        ("flatten", (1024,), 0),
        ("dense", (128,), 4 * 4 * 64 * 128 + 128),
        ("digit_probabilities", (10,), OUTPUT),
    ]


def test_cnn_other_sizes() -> None:
    model = build_model("cnn", filters=(16, 32, 48), kernel_size=3, dense_units=64)
    shapes = {row.name: row.output_shape for row in layer_table(model)}
    assert shapes["pool3"] == (1, 1, 48)  # 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1
    assert shapes["dense"] == (64,)
    five = build_model("cnn", filters=(8,), kernel_size=5)
    assert {r.name: r.output_shape for r in layer_table(five)}["pool1"] == (12, 12, 8)


def test_cnn_batch_norm() -> None:
    model = build_model("cnn", batch_norm=True)
    assert names(model) == [
        "channel",
        "conv1",
        "conv1_norm",
        "conv1_relu",
        "pool1",
        "conv2",
        "conv2_norm",
        "conv2_relu",
        "pool2",
        "flatten",
        "dense",
        "dense_norm",
        "dense_relu",
        "digit_probabilities",
    ]
    config = {layer.name: layer.get_config() for layer in model.layers}
    for name in ("conv1", "conv2", "dense"):
        # BatchNormalization's offset replaces the bias; the ReLU comes after the normalisation.
        assert config[name]["use_bias"] is False, name
        assert config[name]["activation"] == "linear", name
        assert config[f"{name}_relu"]["activation"] == "relu", name
    norm = 2 * (32 + 64 + 128)
    no_bias = 225_034 - 32 - 64 - 128
    assert count(model.trainable_weights) == no_bias + norm
    assert count(model.non_trainable_weights) == norm
    assert model.count_params() == no_bias + 2 * norm
    assert probabilities(model).shape == (3, 10)


def test_cnn_dropout_after_each_block_and_before_the_output() -> None:
    model = build_model("cnn", dropout=0.4)
    assert names(model) == [
        "channel",
        "conv1",
        "pool1",
        "dropout1",
        "conv2",
        "pool2",
        "dropout2",
        "flatten",
        "dense",
        "dropout_dense",
        "digit_probabilities",
    ]
    rates = {layer.name: layer.rate for layer in model.layers if hasattr(layer, "rate")}
    assert rates == {"dropout1": 0.2, "dropout2": 0.2, "dropout_dense": 0.4}
    assert model.count_params() == 225_034


def test_cnn_l2_penalises_every_kernel() -> None:
    model = build_model("cnn", l2=1e-4)
    losses = [float(loss) for loss in model.losses]
    assert len(losses) == 4  # two convolutions, the dense layer and the output
    np.testing.assert_allclose(losses, l2_penalties(model, 1e-4), rtol=1e-5)


@pytest.mark.parametrize(
    "filters, options",
    [
        ((8, 8, 8, 8), {}),  # 28 -> 13 -> 5 -> 1 -> nothing
        ((8, 8, 8), {"convs_per_block": 2}),  # 28 -> 12 -> 4 -> nothing
        ((8, 8), {"kernel_size": 13}),  # 28 -> 8 -> nothing
        ((8,), {"kernel_size": 28}),
    ],
)
def test_cnn_too_many_blocks_raise_input_error(filters: tuple, options: dict) -> None:
    with pytest.raises(InputError, match="blocks"):
        build_model("cnn", filters=filters, **options)


@pytest.mark.parametrize(
    "filters, options, argument",
    [
        ((), {}, "filters"),
        ((32, 0), {}, "filters"),
        ((32, -1), {}, "filters"),
        ((32.0, 64), {}, "filters"),
        ((32, 64), {"kernel_size": 0}, "kernel_size"),
        ((32, 64), {"convs_per_block": 0}, "convs_per_block"),
    ],
)
def test_cnn_bad_sizes_raise_input_error(filters: tuple, options: dict, argument: str) -> None:
    with pytest.raises(InputError, match=argument):
        build_model("cnn", filters=filters, **options)


# ------------------------------------------------------------------------------------------
# XLA or not


def test_dense_networks_compile_with_xla_convolutions_do_not() -> None:
    assert compiles_with_xla("seed_mlp") is True
    assert compiles_with_xla("cnn") is False
    # dropout's random masks are slow under XLA on a CPU: a dense network with dropout goes without
    assert compiles_with_xla("seed_mlp", {"dropout": 0.2}) is False
    assert compiles_with_xla("seed_mlp", {"dropout": 0.0, "l2": 1e-4}) is True


def test_compiles_with_xla_of_an_unknown_model_raises() -> None:
    with pytest.raises(MnistError, match="no_such_model"):
        compiles_with_xla("no_such_model")


@pytest.mark.usefixtures("scratch_registry")
def test_register_model_records_the_xla_choice() -> None:
    def builder():  # pragma: no cover - never built
        raise AssertionError

    register_model("test_with_xla")(builder)
    register_model("test_without_xla", xla=False)(builder)
    assert compiles_with_xla("test_with_xla") is True
    assert compiles_with_xla("test_without_xla") is False
    with pytest.raises(MnistError, match="already registered"):
        register_model("test_with_xla", xla=False)(lambda: None)
    assert compiles_with_xla("test_with_xla") is True  # the refused registration changed nothing


def test_scratch_registrations_did_not_leak() -> None:
    # Runs after the test above (file order): the fixture must have restored both.
    assert "test_without_xla" not in available_models()
    assert "test_without_xla" not in models._WITHOUT_XLA


def test_the_cnn_layer_table_fits_the_text_column() -> None:
    from mnist_lib.models import format_layer_table, layer_table

    table = format_layer_table(layer_table(build_model("cnn", batch_norm=True, dropout=0.4)))
    assert max(len(line) for line in table.splitlines()) <= 77
    times = "\u00d7"  # the multiplication sign
    assert f"3{times}3{times}32{times}64 = 18,432" in table  # convolution kernels written tight
    assert f"1600 {times} 128 = 204,800" in table  # dense kernels as inputs by outputs
    assert table.splitlines()[-1].split()[-1] == "225,706"
