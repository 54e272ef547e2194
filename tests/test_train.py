"""Tests of the training recipe and its configuration (mnist_lib.train)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mnist_lib.train as train_module
from mnist_lib.data import MnistData, Split, load_mnist
from mnist_lib.errors import InputError
from mnist_lib.train import EpochLog, TrainConfig, TrainResult, train

pytestmark = pytest.mark.usefixtures("real_data_env")  # tests/real_data_fixtures.py


def subset(data: MnistData, n: int) -> MnistData:
    return MnistData(Split(data.train.images[:n], data.train.labels[:n]), data.test)


SMALL = TrainConfig(epochs=2, validation_size=0.1, seed=0)


@pytest.fixture(scope="module")
def small_runs(mnist: MnistData) -> dict[str, object]:
    """Three short runs on 2,000 images: seed 0 twice (the first with progress logs), seed 1."""
    data = subset(mnist, 2000)
    logs: list[EpochLog] = []
    first = train(SMALL, data, progress=logs.append)
    second = train(SMALL, data)
    other_seed = train(SMALL.replace(seed=1), data)
    return {"first": first, "second": second, "other_seed": other_seed, "logs": logs}


# ------------------------------------------------------------------------------------------
# TrainConfig


def test_defaults_are_the_seed_recipe() -> None:
    config = TrainConfig()
    assert (config.model, config.optimizer, config.epochs, config.batch_size) == (
        "seed_mlp",
        "adam",
        10,
        32,
    )
    assert (config.validation_size, config.seed) == (0.1, 0)
    assert config == train_module.SEED_RECIPE


@pytest.mark.parametrize(
    "changes",
    [
        {"epochs": 0},
        {"epochs": -3},
        {"epochs": 2.0},
        {"epochs": "10"},
        {"epochs": True},
        {"batch_size": 0},
        {"batch_size": 1.5},
        {"batch_size": None},
        {"seed": 1.0},
        {"seed": "0"},
        {"seed": True},
        {"seed": -1},
        {"seed": 2**32},
        {"validation_size": -1},
        {"validation_size": -0.1},
        {"validation_size": True},
        {"validation_size": "0.1"},
        {"validation_size": None},
        {"validation_size": 1.5},
    ],
)
def test_bad_config_raises_input_error(changes: dict) -> None:
    (name,) = changes
    with pytest.raises(InputError, match=name):
        TrainConfig(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"epochs": 1},
        {"batch_size": 1},
        {"seed": 0},
        {"seed": 2**32 - 1},
        {"validation_size": 0},
        {"validation_size": 0.0},
        {"validation_size": 0.5},
        {"validation_size": 6000},
    ],
)
def test_good_config_is_accepted(changes: dict) -> None:
    config = TrainConfig(**changes)
    for name, value in changes.items():
        assert getattr(config, name) == value


def test_cache_key_is_stable_for_equal_configs() -> None:
    a = TrainConfig(model_params={"hidden_activations": ("relu", "relu", "relu")}, epochs=3)
    b = TrainConfig(model_params={"hidden_activations": ("relu", "relu", "relu")}, epochs=3)
    assert a == b
    assert a.cache_key() == b.cache_key()
    assert re.fullmatch(r"[0-9a-f]{16}", a.cache_key())
    assert TrainConfig().cache_key() == train_module.SEED_RECIPE.cache_key()


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "another_model"},
        {"model_params": {"hidden_activations": ("relu", "relu", "relu")}},
        {"optimizer": "sgd"},
        {"optimizer_params": {"learning_rate": 0.01}},
        {"epochs": 11},
        {"batch_size": 64},
        {"validation_size": 0.2},
        {"validation_size": 0},
        {"seed": 1},
    ],
)
def test_cache_key_changes_with_every_field(changes: dict) -> None:
    base = TrainConfig()
    assert base.replace(**changes).cache_key() != base.cache_key()


def test_cache_key_distinguishes_hyperparameter_values() -> None:
    a = TrainConfig(optimizer_params={"learning_rate": 0.01})
    b = TrainConfig(optimizer_params={"learning_rate": 0.02})
    assert a.cache_key() != b.cache_key()


def test_cache_key_includes_the_library_version() -> None:
    config = TrainConfig()
    before = config.cache_key()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_module, "__version__", "999.0.0")
        assert config.cache_key() != before
    assert config.cache_key() == before


def test_to_dict_from_dict_round_trip_through_json() -> None:
    config = TrainConfig(
        model_params={"hidden_activations": ("relu", "tanh", "tanh")},
        optimizer="sgd",
        optimizer_params={"learning_rate": 0.05, "momentum": 0.9},
        epochs=3,
        batch_size=16,
        validation_size=500,
        seed=7,
    )
    plain = json.loads(json.dumps(config.to_dict()))
    assert plain["model_params"] == {"hidden_activations": ["relu", "tanh", "tanh"]}
    again = TrainConfig.from_dict(plain)
    assert again == config
    assert again.cache_key() == config.cache_key()
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()


def test_replace_returns_a_changed_copy() -> None:
    config = TrainConfig()
    changed = config.replace(epochs=2)
    assert (changed.epochs, config.epochs) == (2, 10)
    with pytest.raises(InputError):
        config.replace(epochs=0)


def test_epoch_log_format() -> None:
    log = EpochLog(3, 10, {"loss": 0.123456, "accuracy": 0.96341}, 1.234)
    assert log.format() == "epoch  3/10  loss 0.1235  accuracy 0.9634  (1.2 s)"
    assert EpochLog(1, 1, {}, 0.0).format() == "epoch 1/1  (0.0 s)"


# ------------------------------------------------------------------------------------------
# Training


def _weights_equal(a: TrainResult, b: TrainResult) -> bool:
    wa, wb = a.model.get_weights(), b.model.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))


def test_same_seed_gives_bit_identical_weights_and_history(small_runs: dict) -> None:
    first, second = small_runs["first"], small_runs["second"]
    assert _weights_equal(first, second)
    assert first.history == second.history


def test_different_seed_gives_different_weights(small_runs: dict) -> None:
    first, other = small_runs["first"], small_runs["other_seed"]
    assert not _weights_equal(first, other)
    assert first.history != other.history


def test_history_has_one_entry_per_epoch(small_runs: dict) -> None:
    result = small_runs["first"]
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for name, values in result.history.items():
        assert len(values) == SMALL.epochs, name
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), name
    for name in ("accuracy", "val_accuracy"):
        assert all(0.0 <= v <= 1.0 for v in result.history[name])
    # 2,000 images are enough for the second epoch to improve on the first.
    assert result.history["loss"][1] < result.history["loss"][0]
    assert result.history["val_accuracy"][-1] > 0.5


def test_result_carries_config_and_time(small_runs: dict) -> None:
    result = small_runs["first"]
    assert result.config == SMALL
    assert result.from_cache is False
    assert result.train_seconds > 0


def test_optimizer_steps_per_epoch(small_runs: dict) -> None:
    # 2,000 images minus 10% validation = 1,800 = 56 full batches of 32 plus one of 8.
    result = small_runs["first"]
    assert int(result.model.optimizer.iterations) == SMALL.epochs * math.ceil(1800 / 32)


def test_progress_called_once_per_epoch(small_runs: dict) -> None:
    logs: list[EpochLog] = small_runs["logs"]
    history = small_runs["first"].history
    assert [log.epoch for log in logs] == [1, 2]
    assert all(log.epochs == 2 for log in logs)
    for index, log in enumerate(logs):
        assert dict(log.metrics) == {name: values[index] for name, values in history.items()}
        assert log.seconds >= 0
        assert re.fullmatch(
            rf"epoch {index + 1}/2  loss \d\.\d{{4}}  accuracy \d\.\d{{4}}  "
            r"val_loss \d\.\d{4}  val_accuracy \d\.\d{4}  \(\d+\.\d s\)",
            log.format(),
        ), log.format()


def test_no_validation_and_a_partial_last_batch(mnist: MnistData) -> None:
    data = subset(mnist, 100)
    config = TrainConfig(epochs=2, batch_size=32, validation_size=0, seed=3)
    logs: list[EpochLog] = []
    result = train(config, data, progress=logs.append)
    assert set(result.history) == {"loss", "accuracy"}
    assert all(len(values) == 2 for values in result.history.values())
    # Every one of the 100 images is used each epoch: 3 full batches of 32 and one of 4.
    assert int(result.model.optimizer.iterations) == 2 * math.ceil(100 / 32)
    # Accuracy is a count of correct answers over all 100 images.
    for value in result.history["accuracy"]:
        assert value * 100 == pytest.approx(round(value * 100))
    assert [log.format().startswith(f"epoch {n}/2  loss ") for n, log in enumerate(logs, 1)] == [
        True,
        True,
    ]
    assert "val_" not in logs[-1].format()


def test_validation_count_and_float_images(mnist: MnistData) -> None:
    # Already-scaled float32 images are taken as they are; a count holds out that many images.
    images = mnist.train.images[:120].astype(np.float32) / 255
    data = MnistData(Split(images, mnist.train.labels[:120]), mnist.test)
    config = TrainConfig(epochs=1, batch_size=50, validation_size=20, seed=0)
    result = train(config, data)
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert int(result.model.optimizer.iterations) == 2  # 100 training images, batches of 50
    assert result.history["val_accuracy"][0] * 20 == pytest.approx(
        round(result.history["val_accuracy"][0] * 20)
    )


def test_raw_float_pixels_are_refused(mnist: MnistData) -> None:
    images = mnist.train.images[:50].astype(np.float32)  # 0..255, not scaled
    data = MnistData(Split(images, mnist.train.labels[:50]), mnist.test)
    with pytest.raises(InputError, match="scale_images"):
        train(TrainConfig(epochs=1, validation_size=0), data)


@pytest.mark.slow
def test_seed_recipe_reaches_97_percent_on_the_test_set() -> None:
    from mnist_lib.evaluate import accuracy, predict_proba
    from mnist_lib.preprocess import scale_images

    data = load_mnist()  # the real data, through $MNIST_DATA_DIR
    result = train(TrainConfig(), data)
    probabilities = predict_proba(result.model, scale_images(data.test.images))
    test_accuracy = accuracy(data.test.labels, probabilities.argmax(axis=1))
    assert test_accuracy >= 0.97, test_accuracy
    assert len(result.history["val_accuracy"]) == 10
    assert result.history["val_accuracy"][-1] >= 0.96


def _configure_in_fresh_process(prelude: str) -> str:
    """configure_runtime() in a new Python after ``prelude``: its thread setting and warnings."""
    code = f"""
import os, warnings
os.environ.pop("TF_NUM_INTRAOP_THREADS", None)
{prelude}
import mnist_lib.train as train

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    train.configure_runtime()
print(os.environ.get("TF_NUM_INTRAOP_THREADS"), [str(w.message)[:40] for w in caught])
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_importing_mnist_lib_first_sets_one_thread_per_op_silently() -> None:
    assert _configure_in_fresh_process("") == "1 []"


def test_tensorflow_started_before_mnist_lib_gives_a_warning() -> None:
    out = _configure_in_fresh_process("import keras; keras.optimizers.Adam()")
    assert "TensorFlow was started before mnist_lib" in out
