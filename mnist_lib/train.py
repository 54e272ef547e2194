"""Fast, deterministic training of any registered model, and the trained-model cache in front of it.

The recipe is Keras' own (a Keras model, a Keras optimizer, sparse categorical cross-entropy,
mini-batches of a reshuffled training set every epoch); only the machinery around it differs from
``model.fit``. With a small network and batches of 32, ``fit`` spends most of its time between
steps, not in them. Here the step is compiled once with XLA and a whole epoch runs as one graph
call, so the per-step cost is a few hundred microseconds of real arithmetic.

Reproducibility: :func:`seed_everything` seeds Python, NumPy and TensorFlow and turns on
TensorFlow's op determinism; the epoch order comes from a NumPy generator seeded by the run's seed.
Two runs with the same configuration on the same machine give bit-identical weights (a test checks
it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import numbers
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_lib import TENSORFLOW_LOADED_WITHOUT_THREAD_SETTINGS, __version__
from mnist_lib.augment import augment_images, check_augmentation
from mnist_lib.data import MnistData, Split, load_mnist
from mnist_lib.errors import InputError
from mnist_lib.models import build_model, compiles_with_xla, training_threads
from mnist_lib.preprocess import check_images, check_labels, scale_images, split_train_validation

if TYPE_CHECKING:
    import keras

History = dict[str, list[float]]
"""Per-epoch metrics as plain data: ``loss``, ``accuracy`` and, with validation, ``val_*``."""


LEARNING_RATE_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run produces; the cache key is built from it.

    The defaults are the book's seed recipe: the reference network, Adam at its default learning
    rate, 10 epochs of mini-batches of 32, and 10% of the training set held out for validation.
    """

    model: str = "seed_mlp"
    model_params: Mapping[str, Any] = field(default_factory=dict)
    optimizer: str = "adam"
    optimizer_params: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 32
    validation_size: int | float = 0.1
    seed: int = 0
    learning_rate_schedule: str = "constant"
    """``"constant"``, or ``"cosine"``: the optimizer's learning rate falls along a half cosine
    from its starting value to 0 over all the steps of training."""
    early_stopping_patience: int = 0
    """0: train every epoch. Otherwise stop once the validation loss has not improved for this
    many epochs, and keep the weights of the epoch with the lowest validation loss."""
    augmentation: Mapping[str, float] = field(default_factory=dict)
    """Empty: the training images as they are. Otherwise the keyword arguments of
    :func:`mnist_lib.augment.augment_images` (``max_shift``, ``max_rotation``): every epoch
    trains on a fresh random variant of each image."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}")
        # NumPy and TensorFlow take seeds from 0 to 2**32 - 1 only; check here, not mid-training.
        seed = self.seed
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
            raise InputError(f"seed must be an integer from 0 to 2**32 - 1; got {self.seed!r}")
        size = self.validation_size
        if (
            isinstance(size, bool)
            or not isinstance(size, numbers.Real)
            or size < 0
            or (size >= 1 and not isinstance(size, numbers.Integral))
        ):
            raise InputError(
                "validation_size must be 0 (no validation), a count, or a fraction in (0, 1); "
                f"got {self.validation_size!r}"
            )
        if self.learning_rate_schedule not in LEARNING_RATE_SCHEDULES:
            raise InputError(
                f"learning_rate_schedule must be one of {', '.join(LEARNING_RATE_SCHEDULES)}; "
                f"got {self.learning_rate_schedule!r}"
            )
        patience = self.early_stopping_patience
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise InputError(
                f"early_stopping_patience must be 0 (off) or a number of epochs; got {patience!r}"
            )
        if patience and not size:
            raise InputError("early stopping watches the validation loss: give validation_size too")
        unknown = set(self.augmentation) - {"max_shift", "max_rotation"}
        if unknown:
            raise InputError(
                f"augmentation takes max_shift and max_rotation; got {', '.join(sorted(unknown))}"
            )
        check_augmentation(**self.augmentation)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready plain data."""
        return {
            "model": self.model,
            "model_params": dict(self.model_params),
            "optimizer": self.optimizer,
            "optimizer_params": dict(self.optimizer_params),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "validation_size": self.validation_size,
            "seed": self.seed,
            "learning_rate_schedule": self.learning_rate_schedule,
            "early_stopping_patience": self.early_stopping_patience,
            "augmentation": dict(self.augmentation),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Rebuild a configuration from :meth:`to_dict` output (JSON turns tuples into lists)."""
        model_params = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in dict(values.get("model_params", {})).items()
        }
        return cls(**{**dict(values), "model_params": model_params})

    def cache_key(self) -> str:
        """A short hash of the configuration and the library version: equal keys, equal models."""
        payload = json.dumps(
            {"config": self.to_dict(), "mnist_lib": __version__}, sort_keys=True, default=list
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


SEED_RECIPE = TrainConfig()
"""The book's reference recipe (see :class:`TrainConfig`)."""


@dataclass(frozen=True)
class EpochLog:
    """What one epoch produced, handed to a progress callback as soon as it ends."""

    epoch: int
    epochs: int
    metrics: Mapping[str, float]
    seconds: float

    def format(self) -> str:
        """One concise line, e.g. ``epoch  3/10  loss 0.1234  accuracy 0.9634  (1.2 s)``."""
        width = len(str(self.epochs))
        parts = [f"epoch {self.epoch:>{width}}/{self.epochs}"]
        parts += [f"{name} {value:.4f}" for name, value in self.metrics.items()]
        return "  ".join(parts) + f"  ({self.seconds:.1f} s)"


@dataclass
class TrainResult:
    """A trained model with its configuration, history and the wall time its training took."""

    model: keras.Model
    config: TrainConfig
    history: History
    train_seconds: float
    from_cache: bool = False

    @property
    def epochs_run(self) -> int:
        """How many epochs were trained (fewer than configured when early stopping ended it)."""
        return len(self.history.get("loss", []))

    @property
    def best_epoch(self) -> int:
        """The epoch whose weights the model holds: with early stopping the one with the lowest
        validation loss, otherwise the last."""
        if self.config.early_stopping_patience and self.history.get("val_loss"):
            return int(np.argmin(self.history["val_loss"])) + 1
        return self.epochs_run


ProgressCallback = Callable[[EpochLog], None]

_runtime_configured = False

THREADS_VARIABLE = "TF_NUM_INTRAOP_THREADS"


def runtime_threads() -> int:
    """The threads per operation this process's TensorFlow runs with (or will start with).

    ``import mnist_lib`` sets ``TF_NUM_INTRAOP_THREADS`` to 1 unless it was set already; a
    training worker process is started with the count its model needs.
    """
    try:
        return max(1, int(os.environ.get(THREADS_VARIABLE, "1")))
    except ValueError:
        return 1


def configure_runtime() -> None:
    """Make sure TensorFlow runs :func:`runtime_threads` threads per operation (usually one) and
    two operations at once.

    For networks this small, splitting each matrix product over several threads costs more in
    synchronisation than it saves: one thread per op measured about twice as fast per step on a
    2-core machine. The thread count also fixes the order of floating-point reductions, which
    bit-for-bit reproducibility relies on. ``import mnist_lib`` sets ``TF_NUM_INTRAOP_THREADS``
    and ``TF_NUM_INTEROP_THREADS`` so that TensorFlow starts this way wherever it is first used;
    this function also sets them explicitly, and warns when TensorFlow was started earlier with
    other settings (its threading can no longer change then).
    """
    global _runtime_configured
    if _runtime_configured:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(runtime_threads())
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:  # the runtime already started: it has what it started with
        if TENSORFLOW_LOADED_WITHOUT_THREAD_SETTINGS:
            warnings.warn(
                "TensorFlow was started before mnist_lib was imported, so its threading could "
                "not be set: training is slower and its results may differ in the last digits "
                "from the book's. Import mnist_lib before tensorflow or keras.",
                RuntimeWarning,
                stacklevel=3,
            )
    _runtime_configured = True


class _RetracingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing() -> Iterator[None]:
    """Drop TensorFlow's "triggered tf.function retracing" warnings inside the block.

    Training and prediction compile new functions for every model on purpose; after five
    models in one process TensorFlow starts warning about it, which would only be noise in a
    chapter that compares many models. Every other TensorFlow message still gets through.
    """
    logger = logging.getLogger("tensorflow")
    retracing = _RetracingFilter()
    logger.addFilter(retracing)
    try:
        yield
    finally:
        logger.removeFilter(retracing)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic."""
    import keras
    import tensorflow as tf

    configure_runtime()
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _prepare(images: np.ndarray) -> np.ndarray:
    """uint8 pixels are scaled to float32 [0, 1]; floats must already be scaled."""
    if images.dtype == np.uint8:
        return scale_images(images)
    return check_images(images, scaled=True)


def train(
    config: TrainConfig = SEED_RECIPE,
    data: MnistData | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train ``config.model`` from scratch with the configured recipe; no cache involved.

    ``data`` defaults to :func:`mnist_lib.data.load_mnist`; only its training split is used (the
    validation set is held out of it). ``progress`` is called after every epoch.

    Training runs in this process, with its TensorFlow thread count; :func:`trained_model` also
    sees to the model's own count (:func:`mnist_lib.models.training_threads`), which is what
    makes its results the book's.
    """
    # Before TensorFlow starts: missing data is reported in a moment, not after its start-up.
    data = data if data is not None else load_mnist()
    with quiet_retracing():
        return _train(config, data, progress)


def _train(config: TrainConfig, data: MnistData, progress: ProgressCallback | None) -> TrainResult:
    import keras
    import tensorflow as tf

    seed_everything(config.seed)
    train_split, validation = _split(data.train, config)
    x_train = _prepare(train_split.images)
    if validation is not None:  # scaled once here, not again every epoch
        validation = Split(_prepare(validation.images), validation.labels)
    y_train = check_labels(train_split.labels, n=len(x_train)).astype(np.int32)

    model = build_model(config.model, **config.model_params)
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    optimizer = _optimizer(config, total_steps=steps_per_epoch * config.epochs)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])
    optimizer.build(model.trainable_variables)

    xla = compiles_with_xla(config.model, config.model_params)
    step = _compiled_step(model, optimizer, loss_fn, xla=xla)
    run_epoch = _epoch_runner(step, config.batch_size)
    predict = tf.function(lambda x: model(x, training=False), jit_compile=xla)

    x_tensor, y_tensor = tf.constant(x_train), tf.constant(y_train)
    order = np.random.default_rng(config.seed)
    variants = np.random.default_rng([config.seed, 1])  # its own stream: the order is unchanged
    stopper = _EarlyStopping(config.early_stopping_patience, model)
    history: History = {}
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_started = time.perf_counter()
        if config.augmentation:
            x_tensor = tf.constant(augment_images(x_train, variants, **config.augmentation))
        shuffle = tf.constant(order.permutation(len(x_train)), dtype=tf.int32)
        loss_sum, correct = run_epoch(x_tensor, y_tensor, shuffle)
        metrics = {
            "loss": float(loss_sum) / len(x_train),
            "accuracy": float(correct) / len(x_train),
        }
        if validation is not None:
            metrics.update(_validate(predict, validation))
        for name, value in metrics.items():
            history.setdefault(name, []).append(value)
        if progress is not None:
            progress(EpochLog(epoch, config.epochs, metrics, time.perf_counter() - epoch_started))
        if stopper.should_stop(metrics.get("val_loss")):
            break
    stopper.restore_best()
    seconds = time.perf_counter() - started
    return TrainResult(model=model, config=config, history=history, train_seconds=seconds)


def _optimizer(config: TrainConfig, total_steps: int) -> Any:
    """The configured Keras optimizer, its learning rate following the configured schedule."""
    import keras

    spec = {"class_name": config.optimizer, "config": dict(config.optimizer_params)}
    try:
        optimizer = keras.optimizers.get(spec)
    except (ValueError, TypeError) as error:
        raise InputError(
            f"cannot make the optimizer {config.optimizer!r} with {dict(config.optimizer_params)}:"
            f" {error}"
        ) from error
    if config.learning_rate_schedule == "cosine":
        start = float(np.asarray(optimizer.learning_rate))
        schedule = keras.optimizers.schedules.CosineDecay(start, decay_steps=total_steps)
        optimizer = type(optimizer)(**{**spec["config"], "learning_rate": schedule})
    return optimizer


class _EarlyStopping:
    """Watches the validation loss; keeps a copy of the best weights seen so far."""

    def __init__(self, patience: int, model: Any) -> None:
        self.patience = patience
        self.model = model
        self.best = float("inf")
        self.best_weights: list[np.ndarray] | None = None
        self.waited = 0

    def should_stop(self, val_loss: float | None) -> bool:
        if not self.patience or val_loss is None:
            return False
        if val_loss < self.best:
            self.best, self.waited = val_loss, 0
            self.best_weights = [np.array(w) for w in self.model.get_weights()]
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _split(train_split: Split, config: TrainConfig) -> tuple[Split, Split | None]:
    if not config.validation_size:
        return train_split, None
    return split_train_validation(
        train_split.images, train_split.labels, config.validation_size, seed=config.seed
    )


def _compiled_step(model: Any, optimizer: Any, loss_fn: Any, *, xla: bool = True) -> Any:
    """One optimisation step on one batch, compiled with XLA when ``xla``; returns (loss sum,
    correct count)."""
    import tensorflow as tf

    @tf.function(jit_compile=xla)
    def step(x_all: tf.Tensor, y_all: tf.Tensor, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.gather(x_all, indices)
        y = tf.gather(y_all, indices)
        with tf.GradientTape() as tape:
            probabilities = model(x, training=True)
            loss = loss_fn(y, probabilities)
            # weight penalties such as L2 add to what is minimised, not to the reported loss
            penalties = tf.add_n(model.losses) if model.losses else 0.0
            minimised = loss + penalties  # inside the tape, or it has no gradient
        gradients = tape.gradient(minimised, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        batch = tf.cast(tf.shape(y)[0], tf.float32)
        predicted = tf.argmax(probabilities, axis=1, output_type=tf.int32)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, y), tf.float32))
        return loss * batch, correct

    return step


def _epoch_runner(step: Any, batch_size: int) -> Any:
    """All of an epoch's steps in one graph call: no Python between steps, no copy of the data.

    Each step gathers its batch from the whole training set by the epoch's shuffled order.

    The last, smaller batch (when the set does not divide evenly) is a step of its own shape,
    exactly as ``model.fit`` would take it.
    """
    import tensorflow as tf

    @tf.function
    def run_epoch(x: tf.Tensor, y: tf.Tensor, order: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        count = order.shape[0]  # static: the function is traced once per training-set size
        full_batches = count // batch_size
        loss_sum = tf.constant(0.0)
        correct = tf.constant(0.0)
        for index in tf.range(full_batches):
            start = index * batch_size
            batch_loss, batch_correct = step(x, y, order[start : start + batch_size])
            loss_sum += batch_loss
            correct += batch_correct
        if count % batch_size:
            batch_loss, batch_correct = step(x, y, order[full_batches * batch_size :])
            loss_sum += batch_loss
            correct += batch_correct
        return loss_sum, correct

    return run_epoch


def _validate(predict: Any, validation: Split, batch_size: int = 2000) -> dict[str, float]:
    """Validation loss and accuracy (images already scaled), computed the way Keras reports them."""
    from mnist_lib.evaluate import accuracy, sparse_categorical_crossentropy

    x = validation.images
    probabilities = np.concatenate(
        [
            np.asarray(predict(x[start : start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]
    )
    return {
        "val_loss": sparse_categorical_crossentropy(validation.labels, probabilities),
        "val_accuracy": accuracy(validation.labels, probabilities.argmax(axis=1)),
    }


def trained_model(
    config: TrainConfig = SEED_RECIPE,
    data: MnistData | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    retrain: bool = False,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """The model ``config`` describes: from the trained-model cache when it is there, else trained
    now (and stored). This is what chapters and the command line call.

    A model whose thread count (:func:`mnist_lib.models.training_threads`) differs from this
    process's is trained in a worker process (:mod:`mnist_lib.worker`), so the result is the
    same whichever process asks for it.
    """
    from mnist_lib.model_cache import ModelCache

    cache = ModelCache(cache_dir)
    if not retrain:
        cached = cache.load(config)
        if cached is not None:
            return cached
    # One process at a time trains a configuration: another one asking for it meanwhile waits
    # here, then finds the entry stored. A worker process stores while this one holds the lock.
    with cache.lock(config):
        if not retrain:
            cached = cache.load(config)
            if cached is not None:
                return cached
        if training_threads(config.model) != runtime_threads():
            from mnist_lib.worker import train_in_worker

            if retrain:
                cache.discard(config)
            return train_in_worker(config, data, cache=cache, progress=progress)
        result = train(config, data, progress=progress)
        if retrain:  # store() keeps an existing entry; a retrain replaces it
            cache.discard(config)
        cache.store(result)
        return result
