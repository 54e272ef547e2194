"""Tests of the training recipes added for the later chapters (mnist_lib.train): learning-rate
schedules, early stopping, augmentation, and training models that do not compile with XLA.

Every run trains on a few hundred images for a few epochs, so the whole file takes seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_model_cache import assert_equal_weights, predictions
from test_train import subset

import mnist_lib.train as train_module
from mnist_lib.data import MnistData
from mnist_lib.errors import InputError
from mnist_lib.evaluate import predict_proba, sparse_categorical_crossentropy
from mnist_lib.model_cache import ModelCache
from mnist_lib.preprocess import scale_images
from mnist_lib.train import TrainConfig, TrainResult, train

pytestmark = pytest.mark.usefixtures("real_data_env")  # tests/real_data_fixtures.py

# 1,000 images: 800 to train on (25 steps of 32 per epoch) and 200 to validate.
BASE = TrainConfig(epochs=2, validation_size=0.2, seed=0)
AUGMENTED = BASE.replace(augmentation={"max_shift": 2.0, "max_rotation": 10.0})
# Adam at 10 times its default rate overfits 480 images within a few epochs.
EARLY = TrainConfig(
    epochs=20, validation_size=0.2, optimizer_params={"learning_rate": 0.01}, seed=0
).replace(early_stopping_patience=2)
CNN = TrainConfig(model="cnn", epochs=2, validation_size=0.2, seed=0)


@pytest.fixture(scope="module")
def data(mnist: MnistData) -> MnistData:
    return subset(mnist, 1000)


class Recorded:
    """A training result with what the spies saw during the run."""

    def __init__(self, result: TrainResult, xla: list[bool], augment_calls: list[dict]) -> None:
        self.result = result
        self.xla = xla
        self.augment_calls = augment_calls


def spied_train(config: TrainConfig, data: MnistData) -> Recorded:
    """``train`` with spies on the compiled step (its ``xla`` flag) and on augment_images."""
    xla: list[bool] = []
    calls: list[dict] = []
    compiled_step, augment = train_module._compiled_step, train_module.augment_images

    def step_spy(*args: Any, **kwargs: Any) -> Any:
        xla.append(kwargs.get("xla", True))
        return compiled_step(*args, **kwargs)

    def augment_spy(images: np.ndarray, rng: np.random.Generator, **options: Any) -> np.ndarray:
        out = augment(images, rng, **options)
        calls.append({"input": images.copy(), "output": out, "options": options})
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_module, "_compiled_step", step_spy)
        patch.setattr(train_module, "augment_images", augment_spy)
        result = train(config, data)
    return Recorded(result, xla, calls)


@pytest.fixture(scope="module")
def base_run(data: MnistData) -> Recorded:
    return spied_train(BASE, data)


@pytest.fixture(scope="module")
def cosine_run(data: MnistData) -> TrainResult:
    return train(BASE.replace(learning_rate_schedule="cosine"), data)


@pytest.fixture(scope="module")
def augmented_runs(data: MnistData) -> tuple[Recorded, TrainResult]:
    return spied_train(AUGMENTED, data), train(AUGMENTED, data)


@pytest.fixture(scope="module")
def early_data(mnist: MnistData) -> MnistData:
    return subset(mnist, 600)


@pytest.fixture(scope="module")
def early_run(early_data: MnistData) -> TrainResult:
    return train(EARLY, early_data)


@pytest.fixture(scope="module")
def cnn_run(data: MnistData) -> Recorded:
    return spied_train(CNN, data)


# ------------------------------------------------------------------------------------------
# Configuration


def test_new_fields_default_to_the_seed_recipe() -> None:
    config = TrainConfig()
    assert config.learning_rate_schedule == "constant"
    assert config.early_stopping_patience == 0
    assert dict(config.augmentation) == {}
    assert train_module.LEARNING_RATE_SCHEDULES == ("constant", "cosine")


@pytest.mark.parametrize(
    "changes, argument",
    [
        ({"learning_rate_schedule": "linear"}, "learning_rate_schedule"),
        ({"learning_rate_schedule": "Cosine"}, "learning_rate_schedule"),
        ({"learning_rate_schedule": None}, "learning_rate_schedule"),
        ({"early_stopping_patience": -1}, "early_stopping_patience"),
        ({"early_stopping_patience": True}, "early_stopping_patience"),
        ({"early_stopping_patience": 2.0}, "early_stopping_patience"),
        ({"early_stopping_patience": "3"}, "early_stopping_patience"),
        ({"early_stopping_patience": 3, "validation_size": 0}, "validation_size"),
        ({"early_stopping_patience": 1, "validation_size": 0.0}, "validation_size"),
        ({"augmentation": {"max_zoom": 0.1}}, "max_zoom"),
        ({"augmentation": {"max_shift": 2, "shift": 2}}, "augmentation"),
    ],
)
def test_bad_new_fields_raise_input_error(changes: dict, argument: str) -> None:
    with pytest.raises(InputError, match=argument):
        TrainConfig(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"learning_rate_schedule": "cosine"},
        {"early_stopping_patience": 1},
        {"early_stopping_patience": 5, "validation_size": 100},
        {"augmentation": {"max_shift": 1.5}},
        {"augmentation": {"max_rotation": 15}},
        {"augmentation": {"max_shift": 0, "max_rotation": 0}},
    ],
)
def test_good_new_fields_are_accepted(changes: dict) -> None:
    config = TrainConfig(**changes)
    for name, value in changes.items():
        assert getattr(config, name) == value


@pytest.mark.parametrize(
    "augmentation", [{"max_shift": 20}, {"max_rotation": -5}, {"max_shift": "2"}]
)
def test_bad_augmentation_values_raise_before_training(augmentation: dict) -> None:
    with pytest.raises(InputError, match="max_"):
        TrainConfig(augmentation=augmentation)


@pytest.mark.parametrize(
    "changes",
    [
        {"learning_rate_schedule": "cosine"},
        {"early_stopping_patience": 3},
        {"augmentation": {"max_shift": 2.0}},
        {"augmentation": {"max_rotation": 10.0}},
        {"augmentation": {"max_shift": 2.0, "max_rotation": 10.0}},
    ],
)
def test_cache_key_changes_with_every_new_field(changes: dict) -> None:
    base = TrainConfig()
    assert base.replace(**changes).cache_key() != base.cache_key()


def test_cache_key_distinguishes_new_field_values() -> None:
    config = TrainConfig()
    keys = {
        config.replace(early_stopping_patience=2).cache_key(),
        config.replace(early_stopping_patience=3).cache_key(),
        config.replace(augmentation={"max_shift": 1.0}).cache_key(),
        config.replace(augmentation={"max_shift": 2.0}).cache_key(),
    }
    assert len(keys) == 4


def test_to_dict_from_dict_round_trip_with_the_new_fields() -> None:
    config = TrainConfig(
        model="cnn",
        model_params={"filters": (16, 32), "dropout": 0.25, "batch_norm": True},
        epochs=12,
        learning_rate_schedule="cosine",
        early_stopping_patience=3,
        augmentation={"max_shift": 1.5, "max_rotation": 12.0},
    )
    plain = json.loads(json.dumps(config.to_dict()))
    assert plain["learning_rate_schedule"] == "cosine"
    assert plain["early_stopping_patience"] == 3
    assert plain["augmentation"] == {"max_shift": 1.5, "max_rotation": 12.0}
    again = TrainConfig.from_dict(plain)
    assert again == config
    assert again.cache_key() == config.cache_key()


def test_records_without_the_new_fields_still_load() -> None:
    # A configuration written before the fields existed reads back with their defaults.
    old = TrainConfig(epochs=3).to_dict()
    for name in ("learning_rate_schedule", "early_stopping_patience", "augmentation"):
        del old[name]
    assert TrainConfig.from_dict(old) == TrainConfig(epochs=3)


# ------------------------------------------------------------------------------------------
# Learning-rate schedule


def _learning_rate(optimizer: Any) -> float:
    return float(np.asarray(optimizer.learning_rate))


def test_constant_schedule_is_the_plain_optimizer() -> None:
    optimizer = train_module._optimizer(TrainConfig(optimizer_params={"learning_rate": 0.02}), 100)
    assert type(optimizer).__name__ == "Adam"
    assert _learning_rate(optimizer) == pytest.approx(0.02)
    optimizer.iterations.assign(100)
    assert _learning_rate(optimizer) == pytest.approx(0.02)


def test_cosine_schedule_follows_a_half_cosine_to_zero() -> None:
    config = TrainConfig(
        optimizer="sgd",
        optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
        learning_rate_schedule="cosine",
    )
    optimizer = train_module._optimizer(config, total_steps=200)
    assert type(optimizer).__name__ == "SGD"
    assert optimizer.momentum == pytest.approx(0.9)  # the other options are kept
    for step in (0, 50, 100, 150, 200):
        optimizer.iterations.assign(step)
        expected = 0.1 * 0.5 * (1 + math.cos(math.pi * step / 200))
        assert _learning_rate(optimizer) == pytest.approx(expected, abs=1e-7), step


def test_cosine_run_ends_with_a_learning_rate_of_zero(
    base_run: Recorded, cosine_run: TrainResult
) -> None:
    steps = BASE.epochs * math.ceil(800 / 32)
    assert int(cosine_run.model.optimizer.iterations) == steps
    assert _learning_rate(cosine_run.model.optimizer) == pytest.approx(0.0, abs=1e-9)
    constant = base_run.result.model.optimizer
    assert int(constant.iterations) == steps
    assert _learning_rate(constant) == pytest.approx(0.001)
    # The schedule changed the training, not only the reported rate.
    assert cosine_run.history["loss"] != base_run.result.history["loss"]


# ------------------------------------------------------------------------------------------
# Weight penalties


def _kernel_norm(model: Any) -> float:
    return sum(float(np.sum(np.square(layer.kernel))) for layer in model.layers[1:])


@pytest.mark.parametrize("l2", [0.0, 1.0])
def test_l2_penalty_is_minimised_but_not_reported(l2: float, data: MnistData) -> None:
    import keras
    import tensorflow as tf

    from mnist_lib.models import build_model

    train_module.seed_everything(0)
    model = build_model("seed_mlp", l2=l2)
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    step = train_module._compiled_step(model, optimizer, loss_fn, xla=False)
    x = scale_images(data.train.images[:32])
    y = data.train.labels[:32].astype(np.int32)
    probabilities = np.asarray(model(x, training=True))
    before = _kernel_norm(model)
    loss_sum, _ = step(tf.constant(x), tf.constant(y), tf.range(32))
    # The reported loss is the cross-entropy alone, whatever the penalty...
    expected = sparse_categorical_crossentropy(y, probabilities)
    assert float(loss_sum) / 32 == pytest.approx(expected, rel=1e-4)
    # ... but the step minimises the penalty too: with l2 = 1 and a rate of 0.1 every weight
    # shrinks by a fifth (w -= 0.1 * 2 * w), so sum(w**2) falls to about 0.64 of what it was.
    ratio = _kernel_norm(model) / before
    if l2:
        assert ratio == pytest.approx(0.64, abs=0.03)
    else:
        assert ratio == pytest.approx(1.0, abs=0.03)


# ------------------------------------------------------------------------------------------
# Early stopping


class _FakeModel:
    def __init__(self) -> None:
        self.weights = [np.zeros(2)]

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w) for w in weights]


def test_early_stopping_waits_patience_epochs_and_restores_the_best() -> None:
    model = _FakeModel()
    stopper = train_module._EarlyStopping(2, model)
    decisions = []
    for epoch, loss in enumerate([1.0, 0.8, 0.9, 0.8, 0.7, 0.75, 0.75], start=1):
        model.weights = [np.full(2, float(epoch))]
        decisions.append(stopper.should_stop(loss))
    # Epoch 4 only equals the best (0.8): not an improvement. 5 improves; 6 and 7 do not.
    assert decisions == [False, False, False, True, False, False, True]
    stopper.restore_best()
    np.testing.assert_array_equal(model.weights[0], [5.0, 5.0])


def test_early_stopping_off_never_stops_nor_restores() -> None:
    model = _FakeModel()
    stopper = train_module._EarlyStopping(0, model)
    model.weights = [np.ones(2)]
    assert not any(stopper.should_stop(loss) for loss in [1.0, 2.0, 3.0, 4.0])
    model.weights = [np.full(2, 9.0)]
    stopper.restore_best()
    np.testing.assert_array_equal(model.weights[0], [9.0, 9.0])


def test_best_epoch_and_epochs_run_from_the_history() -> None:
    history = {"loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [0.5, 0.3, 0.4, 0.45]}
    stopped = TrainResult(None, TrainConfig(early_stopping_patience=2), history, 1.0)
    assert (stopped.epochs_run, stopped.best_epoch) == (4, 2)
    plain = TrainResult(None, TrainConfig(), history, 1.0)
    assert (plain.epochs_run, plain.best_epoch) == (4, 4)  # without early stopping: the last
    assert TrainResult(None, TrainConfig(), {}, 0.0).epochs_run == 0


def test_early_stopping_ends_the_run_after_patience_epochs(early_run: TrainResult) -> None:
    val_loss = early_run.history["val_loss"]
    assert early_run.epochs_run < EARLY.epochs
    assert all(len(values) == early_run.epochs_run for values in early_run.history.values())
    assert early_run.best_epoch == int(np.argmin(val_loss)) + 1
    # It stopped after exactly `patience` epochs without a new best...
    assert early_run.epochs_run == early_run.best_epoch + EARLY.early_stopping_patience
    # ... and not earlier: no earlier run of `patience` epochs went without one.
    patience = EARLY.early_stopping_patience
    best_so_far = np.minimum.accumulate(val_loss)
    improved = [True] + [val_loss[i] < best_so_far[i - 1] for i in range(1, len(val_loss))]
    for seen in range(patience, early_run.epochs_run):
        assert any(improved[seen - patience : seen]), f"should have stopped after epoch {seen}"


def test_early_stopping_keeps_the_weights_of_the_best_epoch(
    early_run: TrainResult, early_data: MnistData
) -> None:
    best = early_run.best_epoch
    val_loss = early_run.history["val_loss"]
    assert val_loss[-1] > val_loss[best - 1]  # the last epoch's weights would be worse
    _, validation = train_module._split(early_data.train, EARLY)
    probabilities = predict_proba(early_run.model, scale_images(validation.images))
    recomputed = sparse_categorical_crossentropy(validation.labels, probabilities)
    assert recomputed == pytest.approx(val_loss[best - 1], rel=1e-5)
    assert recomputed != pytest.approx(val_loss[-1], rel=1e-5)


def test_early_stopped_weights_equal_a_run_of_best_epoch_epochs(
    early_run: TrainResult, early_data: MnistData
) -> None:
    best = early_run.best_epoch
    shorter = train(EARLY.replace(epochs=best, early_stopping_patience=0), early_data)
    assert_equal_weights(early_run.model, shorter.model)
    assert shorter.history == {name: v[:best] for name, v in early_run.history.items()}


def test_without_early_stopping_every_epoch_runs(base_run: Recorded) -> None:
    result = base_run.result
    assert result.epochs_run == result.best_epoch == BASE.epochs
    assert len(result.history["val_loss"]) == BASE.epochs


# ------------------------------------------------------------------------------------------
# Augmentation


def test_augmentation_changes_the_training(
    base_run: Recorded, augmented_runs: tuple[Recorded, TrainResult]
) -> None:
    augmented = augmented_runs[0].result
    assert augmented.history["loss"] != base_run.result.history["loss"]
    assert not np.array_equal(
        augmented.model.get_weights()[0], base_run.result.model.get_weights()[0]
    )
    assert base_run.augment_calls == []  # no augmentation unless configured


def test_augmented_runs_are_reproducible(augmented_runs: tuple[Recorded, TrainResult]) -> None:
    first, second = augmented_runs[0].result, augmented_runs[1]
    assert first.history == second.history
    assert_equal_weights(first.model, second.model)


def test_every_epoch_gets_a_fresh_variant_of_the_original_images(
    augmented_runs: tuple[Recorded, TrainResult], data: MnistData
) -> None:
    calls = augmented_runs[0].augment_calls
    assert len(calls) == AUGMENTED.epochs
    assert all(call["options"] == dict(AUGMENTED.augmentation) for call in calls)
    # Each epoch starts again from the training images (variants do not pile up)...
    train_split, _ = train_module._split(data.train, AUGMENTED)
    for call in calls:
        np.testing.assert_array_equal(call["input"], scale_images(train_split.images))
    # ... and draws a new variant of them.
    assert not np.array_equal(calls[0]["output"], calls[1]["output"])


def test_augmentation_leaves_the_validation_images_alone(
    augmented_runs: tuple[Recorded, TrainResult], data: MnistData
) -> None:
    # The recorded validation loss is that of the model on the unchanged validation images.
    result = augmented_runs[0].result
    _, validation = train_module._split(data.train, AUGMENTED)
    probabilities = predict_proba(result.model, scale_images(validation.images))
    loss = sparse_categorical_crossentropy(validation.labels, probabilities)
    assert loss == pytest.approx(result.history["val_loss"][-1], rel=1e-5)


# ------------------------------------------------------------------------------------------
# Models without XLA


def test_seed_mlp_step_is_compiled_with_xla(base_run: Recorded) -> None:
    assert base_run.xla == [True]


def test_cnn_trains_without_xla_above_chance(cnn_run: Recorded, mnist: MnistData) -> None:
    assert cnn_run.xla == [False]
    result = cnn_run.result
    assert result.epochs_run == CNN.epochs
    assert result.history["loss"][1] < result.history["loss"][0]
    assert result.history["val_accuracy"][-1] > 0.5  # chance is 0.1
    test_images = scale_images(mnist.test.images[:500])
    predicted = predict_proba(result.model, test_images).argmax(axis=1)
    assert np.mean(predicted == mnist.test.labels[:500]) > 0.5


def test_cnn_round_trips_through_the_model_cache(cnn_run: Recorded, tmp_path: Path) -> None:
    result = cnn_run.result
    cache = ModelCache(tmp_path / "models")
    cache.store(result)
    loaded = cache.load(CNN)
    assert loaded is not None
    assert loaded.from_cache is True
    assert loaded.config == CNN
    assert loaded.history == result.history
    assert [layer.name for layer in loaded.model.layers] == [
        layer.name for layer in result.model.layers
    ]
    assert_equal_weights(loaded.model, result.model)
    images = np.random.default_rng(0).random((16, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(
        predictions(loaded.model, images), predictions(result.model, images)
    )
