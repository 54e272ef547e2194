"""Training in a child process, for a model that needs another thread count than this process.

TensorFlow fixes its threads per operation when it starts, for the whole process. The dense
networks train fastest with one thread per operation, the convolutional ones with two
(:func:`mnist_lib.models.training_threads`), and the count also decides the exact bits of the
result. So :func:`mnist_lib.train.trained_model` trains a model whose count differs from the
running process's here: in a fresh Python process started with ``TF_NUM_INTRAOP_THREADS`` set to
the model's count, which stores the result in the trained-model cache. The parent then loads it
from there. Each finished epoch is reported back on the child's standard output as one line of
JSON, so progress callbacks work as usual.

Run by hand, ``python -m mnist_lib.worker CONFIG_JSON CACHE_DIR [DATA_NPZ]`` trains one
configuration in the current process and stores it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_lib.errors import MnistError

if TYPE_CHECKING:
    from mnist_lib.data import MnistData
    from mnist_lib.model_cache import ModelCache
    from mnist_lib.train import ProgressCallback, TrainConfig, TrainResult

EPOCH_PREFIX = "mnist_lib-epoch "
"""Marks the child's progress lines, so that anything else it prints is not mistaken for one."""

ERROR_PREFIX = "mnist_lib-error "
"""Marks the child's last line on standard error when it failed with one of the library's errors:
the error's class and message as JSON, so the parent raises the same kind with the same text."""


def train_in_worker(
    config: TrainConfig,
    data: MnistData | None,
    *,
    cache: ModelCache,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train ``config`` in a child process with the model's thread count; return the result.

    ``data`` (None: the child finds MNIST itself, as :func:`mnist_lib.data.load_mnist` does here)
    is handed over in a temporary ``.npz`` file. The child stores the trained model in ``cache``;
    if another process stored the same configuration meanwhile, that entry is the result.
    """
    from mnist_lib.models import training_threads
    from mnist_lib.train import THREADS_VARIABLE, EpochLog

    staging = Path(tempfile.mkdtemp(prefix="mnist-lib-worker-"))
    try:
        command = [sys.executable, "-m", "mnist_lib.worker", json.dumps(config.to_dict())]
        command.append(str(cache.root))
        if data is not None:
            data_file = staging / "data.npz"
            np.savez(
                data_file,
                train_images=data.train.images,
                train_labels=data.train.labels,
                test_images=data.test.images,
                test_labels=data.test.labels,
            )
            command.append(str(data_file))
        env = {**os.environ, THREADS_VARIABLE: str(training_threads(config.model))}
        errors_path = staging / "stderr.txt"
        with errors_path.open("w+", encoding="utf-8") as errors:
            child = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
            )
            try:
                assert child.stdout is not None
                for line in child.stdout:
                    if line.startswith(EPOCH_PREFIX) and progress is not None:
                        values = json.loads(line[len(EPOCH_PREFIX) :])
                        progress(EpochLog(**values))
                code = child.wait()
            finally:  # an interrupted parent leaves no training process behind
                if child.poll() is None:
                    child.kill()
                    child.wait()
            errors.seek(0)
            message = errors.read().strip()
        if code != 0:
            raise _child_error(config, message, code)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result = cache.load(config)
    if result is None:
        raise MnistError(f"the worker process trained {config.model} but stored no usable model")
    result.from_cache = False
    return result


def _child_error(config: TrainConfig, stderr: str, code: int) -> MnistError:
    """The child's failure as an exception of the kind it raised there (DataNotFoundError...)."""
    from mnist_lib import errors

    lines = stderr.splitlines()
    kind: type[MnistError] = MnistError
    reason = lines[-1].removeprefix("error: ") if lines else f"exit code {code}"
    if lines and lines[-1].startswith(ERROR_PREFIX):
        reported = json.loads(lines[-1][len(ERROR_PREFIX) :])
        candidate = getattr(errors, str(reported.get("type")), None)
        if isinstance(candidate, type) and issubclass(candidate, MnistError):
            kind = candidate
        reason = str(reported.get("message"))
    return kind(f"training {config.model} in a worker process failed: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    """The child's side: train one configuration here and store it in the given cache."""
    from mnist_lib.data import MnistData, Split
    from mnist_lib.model_cache import ModelCache
    from mnist_lib.train import EpochLog, TrainConfig, train

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        print("usage: python -m mnist_lib.worker CONFIG_JSON CACHE_DIR [DATA_NPZ]", file=sys.stderr)
        return 2

    def report(log: EpochLog) -> None:
        values = {
            "epoch": log.epoch,
            "epochs": log.epochs,
            "metrics": dict(log.metrics),
            "seconds": log.seconds,
        }
        print(EPOCH_PREFIX + json.dumps(values), flush=True)

    try:
        config = TrainConfig.from_dict(json.loads(args[0]))
        data = None
        if len(args) == 3:
            with np.load(args[2]) as arrays:
                data = MnistData(
                    Split(arrays["train_images"], arrays["train_labels"]),
                    Split(arrays["test_images"], arrays["test_labels"]),
                )
        result = train(config, data, progress=report)
        ModelCache(args[1]).store(result)
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        report = {"type": type(error).__name__, "message": str(error)}
        print(ERROR_PREFIX + json.dumps(report), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
