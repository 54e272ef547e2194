"""The book's named recipes: each chapter's models differ from their baseline in what it claims."""

from __future__ import annotations

import pytest

from mnist_lib.errors import MnistError
from mnist_lib.models import available_models
from mnist_lib.recipes import (
    ACTIVATIONS,
    BEST_CNN,
    CNN,
    OPTIMIZERS,
    REFERENCE,
    activation_grid,
    book_recipes,
    recipe,
    regularization_runs,
)
from mnist_lib.train import SEED_RECIPE, TrainConfig


def changed_fields(a: TrainConfig, b: TrainConfig) -> set[str]:
    left, right = a.to_dict(), b.to_dict()
    return {name for name in left if left[name] != right[name]}


def test_the_reference_is_the_seed_recipe() -> None:
    assert REFERENCE == SEED_RECIPE
    assert activation_grid()["reference", "Adam"] == REFERENCE


def test_the_grid_changes_only_activations_and_optimizer() -> None:
    grid = activation_grid()
    assert len(grid) == len(ACTIVATIONS) * len(OPTIMIZERS) == 15
    assert {"relu", "sigmoid", "tanh", "gelu"} <= {activation for activation, _ in grid}
    for (activation, optimizer), config in grid.items():
        allowed = {"model_params", "optimizer", "optimizer_params"}
        assert changed_fields(REFERENCE, config) <= allowed
        keras_name, params = OPTIMIZERS[optimizer]
        assert (config.optimizer, dict(config.optimizer_params)) == (keras_name, params)
        hidden = config.model_params.get("hidden_activations", ACTIVATIONS["reference"])
        assert tuple(hidden) == ACTIVATIONS[activation]
    assert OPTIMIZERS["SGD + momentum"] == ("sgd", {"learning_rate": 0.01, "momentum": 0.9})


def test_each_regularization_run_changes_one_thing() -> None:
    runs = regularization_runs()
    base = runs.pop("no regularization")
    assert changed_fields(REFERENCE, base) == {"epochs"} and base.epochs == 20
    expected = {
        "dropout 0.2": "model_params",
        "L2 1e-4": "model_params",
        "batch normalization": "model_params",
        "early stopping": "early_stopping_patience",
        "cosine learning rate": "learning_rate_schedule",
        "augmentation": "augmentation",
    }
    assert {name: changed_fields(base, config) for name, config in runs.items()} == {
        name: {field} for name, field in expected.items()
    }


def test_the_convolutional_recipes() -> None:
    assert CNN.model == "cnn" and "cnn" in available_models()
    assert CNN.model_params["batch_norm"] and CNN.model_params["dropout"] > 0
    assert CNN.learning_rate_schedule == "cosine" and not CNN.augmentation
    assert changed_fields(CNN, BEST_CNN) == {"augmentation"}
    assert set(BEST_CNN.augmentation) == {"max_shift", "max_rotation"}


def test_every_book_recipe_has_its_own_name_and_model() -> None:
    recipes = book_recipes()
    keys = [config.cache_key() for config in recipes.values()]
    assert len(set(keys)) == len(keys), "two names for one model"
    assert len(recipes) == 1 + 14 + 1 + 7 + 1  # reference, grid, CNN, 20-epoch runs, best
    assert all(name == name.lower() and " " not in name for name in recipes)
    assert recipe("best-cnn") == BEST_CNN and recipe("cnn") == CNN
    assert recipe("tanh-rmsprop") == activation_grid()["tanh", "RMSprop"]


def test_an_unknown_recipe_names_the_known_ones() -> None:
    with pytest.raises(MnistError, match=r"unknown recipe 'cnn2'.*best-cnn"):
        recipe("cnn2")
