"""Tests of the model registry and the seed network (mnist_lib.models)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib import models
from mnist_lib.errors import MnistError
from mnist_lib.models import available_models, build_model, register_model

SEED_LAYERS = [
    # (class name, units, activation, trainable parameters)
    ("Flatten", None, None, 0),
    ("Dense", 128, "relu", 784 * 128 + 128),
    ("Dense", 64, "sigmoid", 128 * 64 + 64),
    ("Dense", 32, "sigmoid", 64 * 32 + 32),
    ("Dense", 10, "softmax", 32 * 10 + 10),
]


@pytest.fixture()
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A copy of the registry that tests may add to; the real one is restored afterwards."""
    registry = dict(models._REGISTRY)
    monkeypatch.setattr(models, "_REGISTRY", registry)
    return registry


def _trainable(layer_or_model) -> int:
    return int(sum(np.prod(w.shape) for w in layer_or_model.trainable_weights))


def test_registry_lists_seed_mlp() -> None:
    names = available_models()
    assert "seed_mlp" in names
    assert names == sorted(names)


def test_seed_mlp_layers_in_order() -> None:
    model = build_model("seed_mlp")
    got = []
    for layer in model.layers:
        config = layer.get_config()
        got.append(
            (type(layer).__name__, config.get("units"), config.get("activation"), _trainable(layer))
        )
    assert got == SEED_LAYERS


def test_seed_mlp_shapes_and_parameter_count() -> None:
    model = build_model("seed_mlp")
    assert tuple(model.input_shape) == (None, 28, 28)
    assert tuple(model.output_shape) == (None, 10)
    assert [_trainable(layer) for layer in model.layers] == [0, 100_480, 8_256, 2_080, 330]
    assert _trainable(model) == 111_146
    assert model.count_params() == 111_146
    assert not model.non_trainable_weights


def test_seed_mlp_outputs_probabilities() -> None:
    model = build_model("seed_mlp")
    images = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    probabilities = np.asarray(model(images, training=False))
    assert probabilities.shape == (5, 10)
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_seed_mlp_is_uncompiled_and_fresh_each_time() -> None:
    first, second = build_model("seed_mlp"), build_model("seed_mlp")
    assert first is not second
    assert not first.compiled


def test_build_model_passes_hyperparameters() -> None:
    model = build_model("seed_mlp", hidden_activations=("tanh", "relu", "elu"))
    activations = [layer.get_config().get("activation") for layer in model.layers]
    assert activations == [None, "tanh", "relu", "elu", "softmax"]
    assert _trainable(model) == 111_146


def test_unknown_model_lists_known_names() -> None:
    with pytest.raises(MnistError) as caught:
        build_model("no_such_model")
    message = str(caught.value)
    assert "'no_such_model'" in message
    for name in available_models():
        assert name in message


def test_registering_a_taken_name_raises(scratch_registry: dict) -> None:
    original = scratch_registry["seed_mlp"]
    with pytest.raises(MnistError, match="already registered"):

        @register_model("seed_mlp")
        def impostor():  # pragma: no cover - never built
            raise AssertionError

    assert scratch_registry["seed_mlp"] is original
    assert build_model("seed_mlp").name == "seed_mlp"


def test_re_registering_the_same_builder_is_allowed(scratch_registry: dict) -> None:
    builder = scratch_registry["seed_mlp"]
    assert register_model("seed_mlp")(builder) is builder
    assert available_models().count("seed_mlp") == 1


def test_new_model_is_buildable_by_name(scratch_registry: dict) -> None:
    import keras

    @register_model("tiny_test_model")
    def tiny(units: int = 4) -> keras.Model:
        return keras.Sequential(
            [keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(units)]
        )

    assert "tiny_test_model" in available_models()
    model = build_model("tiny_test_model", units=7)
    assert tuple(model.output_shape) == (None, 7)


def test_scratch_registration_did_not_leak() -> None:
    # Runs after the test above (file order): the fixture must have restored the registry.
    assert "tiny_test_model" not in available_models()
    assert "tiny_test_model" not in models._REGISTRY
