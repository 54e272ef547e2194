"""Tests of the model inspection helpers in mnist_lib.models: layer_table, its text, softmax."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib.errors import InputError
from mnist_lib.models import (
    LayerRow,
    format_layer_table,
    initial_saturation,
    layer_outputs,
    layer_table,
    seed_mlp,
    softmax,
)

# (name, kind, activation, output, kernel shape, weights, biases, parameters) of the seed network
SEED_ROWS = [
    ("flatten", "Flatten", None, (784,), None, 0, 0, 0),
    ("hidden_128", "Dense", "relu", (128,), (784, 128), 100_352, 128, 100_480),
    ("hidden_64", "Dense", "sigmoid", (64,), (128, 64), 8_192, 64, 8_256),
    ("hidden_32", "Dense", "sigmoid", (32,), (64, 32), 2_048, 32, 2_080),
    ("digit_probabilities", "Dense", "softmax", (10,), (32, 10), 320, 10, 330),
]


@pytest.fixture(scope="module")
def seed_rows() -> list[LayerRow]:
    return layer_table(seed_mlp())


def test_layer_table_of_the_seed_network(seed_rows: list[LayerRow]) -> None:
    assert [tuple(vars(row).values()) for row in seed_rows] == SEED_ROWS


def test_layer_table_parameters_are_inputs_times_outputs_plus_biases(
    seed_rows: list[LayerRow],
) -> None:
    for row in seed_rows:
        assert row.parameters == row.weights + row.biases
        if row.kernel_shape is not None:
            n_in, n_out = row.kernel_shape
            assert row.parameters == n_in * n_out + n_out
    assert sum(row.parameters for row in seed_rows) == 111_146 == seed_mlp().count_params()


def test_layer_table_without_bias_and_other_activation() -> None:
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            keras.layers.Dense(4, activation="tanh", use_bias=False, name="no_bias"),
            keras.layers.Dense(3, name="linear"),
        ]
    )
    no_bias, linear = layer_table(model)
    assert (no_bias.weights, no_bias.biases, no_bias.parameters) == (24, 0, 24)
    assert no_bias.activation == "tanh"
    assert (linear.kernel_shape, linear.activation, linear.parameters) == ((4, 3), "linear", 15)


def test_layer_table_rejects_what_is_not_a_model() -> None:
    with pytest.raises(InputError, match="Keras model"):
        layer_table(object())


def test_format_layer_table_text(seed_rows: list[LayerRow]) -> None:
    lines = format_layer_table(seed_rows).splitlines()
    assert len(lines) == 7  # header, five layers, total
    assert lines[0].split() == [
        "layer",
        "activation",
        "output",
        "weights",
        "biases",
        "params",
    ]
    assert lines[1].split() == ["flatten", "-", "784", "-", "-", "0"]
    assert lines[2].split() == [
        "hidden_128",
        "relu",
        "128",
        "784",
        "\u00d7",
        "128",
        "=",
        "100,352",
        "128",
        "100,480",
    ]
    assert lines[-1].split() == ["total", "111,146"]
    # numbers are right-aligned: every parameter count ends in the same column
    assert len({len(line) for line in lines}) == 1


def test_softmax_small_example() -> None:
    probs = softmax([2.0, 1.0, 0.1])
    assert probs == pytest.approx([0.6590, 0.2424, 0.0986], abs=1e-4)
    assert probs.sum() == pytest.approx(1.0)


def test_softmax_ignores_a_common_shift_and_does_not_overflow() -> None:
    scores = np.array([[1.0, 2.0, 3.0], [1001.0, 1002.0, 1003.0]])
    probs = softmax(scores)
    assert np.all(np.isfinite(probs))
    assert probs[0] == pytest.approx(probs[1])
    assert probs.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert softmax(scores, axis=0)[:, 0] == pytest.approx([0.0, 1.0])


@pytest.mark.parametrize("bad", [[], [1.0, np.nan], [np.inf]])
def test_softmax_rejects_empty_or_non_finite(bad: list[float]) -> None:
    with pytest.raises(InputError, match="finite"):
        softmax(bad)


def test_initial_saturation_raw_pixels_saturate_scaled_ones_do_not() -> None:
    rng = np.random.default_rng(1)
    raw = np.zeros((50, 28, 28), dtype=np.uint8)
    raw[:, 8:20, 10:18] = rng.integers(100, 256, size=(50, 12, 8))  # about 100 inked pixels
    before = initial_saturation(raw)
    after = initial_saturation(raw / 255.0)
    assert before.saturated_share > 0.8
    assert after.saturated_share < 0.05
    # the weighted sums are linear in the inputs: dividing by 255 divides the first ones by 255
    assert after.mean_abs_z1 == pytest.approx(before.mean_abs_z1 / 255)
    assert after.mean_abs_z1 < 1 < before.mean_abs_z1


def test_initial_saturation_is_seeded_and_accepts_flat_rows() -> None:
    images = np.random.default_rng(2).random((5, 784))
    assert initial_saturation(images) == initial_saturation(images.reshape(5, 28, 28))
    assert initial_saturation(images, seed=1) != initial_saturation(images, seed=2)
    blank = initial_saturation(np.zeros((3, 784)))
    assert blank == (0.0, 0.0, 0.0)  # zero inputs: every sigmoid at 0.5, slope 0.25


@pytest.mark.parametrize("bad", [np.zeros((3, 100)), np.zeros(784), np.array([["a"] * 784])])
def test_initial_saturation_rejects_bad_images(bad: np.ndarray) -> None:
    with pytest.raises(InputError, match="images must"):
        initial_saturation(bad)


def test_layer_outputs_are_each_layers_output_for_the_batch() -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = seed_mlp()
    images = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    outputs = layer_outputs(model, images)
    names = ["flatten", "hidden_128", "hidden_64", "hidden_32", "digit_probabilities"]
    assert list(outputs) == names
    assert [v.shape for v in outputs.values()] == [(3, 784), (3, 128), (3, 64), (3, 32), (3, 10)]
    assert np.array_equal(outputs["flatten"], images.reshape(3, 784))
    kernel, bias = model.get_layer("hidden_128").get_weights()
    by_hand = np.maximum(0, outputs["flatten"] @ kernel + bias)  # h = ReLU(W x + b)
    assert outputs["hidden_128"] == pytest.approx(by_hand, abs=1e-5)
    final = np.asarray(model(images, training=False))
    assert outputs["digit_probabilities"] == pytest.approx(final, abs=1e-6)
    assert outputs["digit_probabilities"].sum(axis=1) == pytest.approx(np.ones(3), abs=1e-6)


def test_layer_outputs_rejects_what_is_not_a_model() -> None:
    with pytest.raises(InputError, match="Keras model"):
        layer_outputs(object(), np.zeros((1, 28, 28)))
