"""Every model the book trains, by name: one place for the recipes the chapters quote.

A recipe is a :class:`~mnist_lib.train.TrainConfig`; :func:`mnist_lib.train.trained_model` turns
it into a model (from the cache when it was trained before). The chapters take their models from
here, the comparison chapter lists all of them, and the command line trains any of them:
``python -m mnist_lib train --recipe cnn``.
"""

from __future__ import annotations

from mnist_lib.errors import MnistError
from mnist_lib.train import SEED_RECIPE, TrainConfig

__all__ = [
    "ACTIVATIONS",
    "BEST_CNN",
    "CNN",
    "OPTIMIZERS",
    "REFERENCE",
    "activation_grid",
    "book_recipes",
    "recipe",
    "regularization_runs",
]

REFERENCE = SEED_RECIPE
"""The reference network and recipe of chapters 3 to 6: 97.8% test accuracy."""

ACTIVATIONS: dict[str, tuple[str, str, str]] = {
    "reference": ("relu", "sigmoid", "sigmoid"),
    "relu": ("relu", "relu", "relu"),
    "sigmoid": ("sigmoid", "sigmoid", "sigmoid"),
    "tanh": ("tanh", "tanh", "tanh"),
    "gelu": ("gelu", "gelu", "gelu"),
}
"""The hidden activations of the activations chapter's grid: the reference mix, then one
activation in all three hidden layers."""

OPTIMIZERS: dict[str, tuple[str, dict[str, float]]] = {
    "Adam": ("adam", {}),
    "SGD + momentum": ("sgd", {"learning_rate": 0.01, "momentum": 0.9}),
    "RMSprop": ("rmsprop", {}),
}
"""The optimizers of the grid: Keras' name and the settings changed from Keras' defaults."""


def activation_grid() -> dict[tuple[str, str], TrainConfig]:
    """The reference recipe for every (activation, optimizer) pair, keyed by their names.

    Only the hidden activations and the optimizer change; ("reference", "Adam") is
    :data:`REFERENCE` itself.
    """
    grid = {}
    for activation, hidden in ACTIVATIONS.items():
        for optimizer_name, (optimizer, params) in OPTIMIZERS.items():
            config = REFERENCE.replace(optimizer=optimizer, optimizer_params=dict(params))
            if activation != "reference":
                config = config.replace(model_params={"hidden_activations": hidden})
            grid[activation, optimizer_name] = config
    return grid


CNN = TrainConfig(
    model="cnn",
    model_params={"batch_norm": True, "dropout": 0.4},
    batch_size=128,
    epochs=15,
    learning_rate_schedule="cosine",
)
"""The convolutional network of chapter 8: two blocks of convolution and max pooling, with
batch normalization and dropout, trained in batches of 128 with a cosine learning-rate schedule."""

OVERFITTING_EPOCHS = 20

_REGULARIZED = REFERENCE.replace(epochs=OVERFITTING_EPOCHS)


def regularization_runs() -> dict[str, TrainConfig]:
    """The regularization chapter's runs: the reference network trained twice as long, alone and
    with one technique at a time, so each technique's effect is measured against the same run."""
    base = _REGULARIZED
    return {
        "no regularization": base,
        "dropout 0.2": base.replace(model_params={"dropout": 0.2}),
        "L2 1e-4": base.replace(model_params={"l2": 1e-4}),
        "batch normalization": base.replace(model_params={"batch_norm": True}),
        "early stopping": base.replace(early_stopping_patience=3),
        "cosine learning rate": base.replace(learning_rate_schedule="cosine"),
        "augmentation": base.replace(augmentation={"max_shift": 2.0, "max_rotation": 10.0}),
    }


BEST_CNN = CNN.replace(augmentation={"max_shift": 2.0, "max_rotation": 10.0})
"""The book's best model: the chapter 8 network trained on augmented images, a fresh randomly
shifted and rotated variant of every training image each epoch."""


def book_recipes() -> dict[str, TrainConfig]:
    """Every model in the book, by a short name usable on the command line."""
    recipes = {"reference": REFERENCE}
    for (activation, optimizer), config in activation_grid().items():
        if config != REFERENCE:
            recipes[f"{activation}-{optimizer.split()[0].lower()}"] = config
    recipes["cnn"] = CNN
    for label, config in regularization_runs().items():
        if config != REFERENCE:
            recipes["mlp-" + label.lower().replace(" ", "-")] = config
    recipes["best-cnn"] = BEST_CNN
    return recipes


def recipe(name: str) -> TrainConfig:
    """The book's recipe called ``name`` (see :func:`book_recipes`)."""
    recipes = book_recipes()
    try:
        return recipes[name]
    except KeyError:
        known = ", ".join(recipes)
        raise MnistError(f"unknown recipe {name!r}; the book's recipes are: {known}") from None
