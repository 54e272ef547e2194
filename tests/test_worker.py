"""Training in a worker process: the convolutional network trains with its own thread count.

Each test that trains starts a real child Python process (a few seconds each).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from mnist_fixtures import REAL_MNIST
from test_model_cache import assert_equal_weights

import mnist_lib.worker as worker_module
from mnist_lib.data import MnistData, Split, load_mnist
from mnist_lib.errors import DataNotFoundError, InputError, MnistError
from mnist_lib.model_cache import ModelCache
from mnist_lib.models import register_model, training_threads
from mnist_lib.train import EpochLog, TrainConfig, runtime_threads, trained_model

TINY_CNN = TrainConfig(model="cnn", model_params={"filters": (4, 8)}, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def tiny() -> MnistData:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_OFFLINE", "1")
        data = load_mnist(REAL_MNIST)
    return MnistData(
        Split(data.train.images[:600], data.train.labels[:600]),
        Split(data.test.images[:200], data.test.labels[:200]),
    )


@pytest.fixture(scope="module")
def worker_runs(tiny: MnistData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The tiny CNN trained in a worker, taken from the cache, then retrained in a worker."""
    cache_dir = tmp_path_factory.mktemp("worker-cache")
    logs: list[EpochLog] = []
    envs: list[dict[str, str]] = []
    real_popen = subprocess.Popen

    def recording_popen(command, *args, **kwargs):
        if "mnist_lib.worker" in command:  # patched module-wide: other callers pass through
            envs.append(kwargs["env"])
        return real_popen(command, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(worker_module.subprocess, "Popen", recording_popen)
        first = trained_model(TINY_CNN, tiny, cache_dir=cache_dir, progress=logs.append)
        cached = trained_model(TINY_CNN, tiny, cache_dir=cache_dir)
        again = trained_model(TINY_CNN, tiny, cache_dir=cache_dir, retrain=True)
    return {
        "first": first,
        "cached": cached,
        "again": again,
        "logs": logs,
        "envs": envs,
        "cache": cache_dir,
    }


def test_models_declare_their_thread_counts() -> None:
    assert training_threads("seed_mlp") == 1 == runtime_threads()
    assert training_threads("cnn") == 2
    with pytest.raises(MnistError, match="unknown model"):
        training_threads("no_such_net")
    with pytest.raises(MnistError, match="threads must be a positive count"):
        register_model("never_registered", threads=0)


def test_the_worker_runs_with_the_models_thread_count(worker_runs: dict) -> None:
    envs = worker_runs["envs"]
    assert len(envs) == 2, "trained twice in a worker; the middle call came from the cache"
    assert all(env["TF_NUM_INTRAOP_THREADS"] == "2" for env in envs)


def test_progress_comes_back_from_the_worker_epoch_by_epoch(worker_runs: dict) -> None:
    logs: list[EpochLog] = worker_runs["logs"]
    assert [(log.epoch, log.epochs) for log in logs] == [(1, 2), (2, 2)]
    history = worker_runs["first"].history
    assert [log.metrics["val_accuracy"] for log in logs] == history["val_accuracy"]
    assert all(log.seconds > 0 for log in logs)


def test_the_worker_stores_the_model_and_the_parent_returns_it(worker_runs: dict) -> None:
    first, cached = worker_runs["first"], worker_runs["cached"]
    assert not first.from_cache and cached.from_cache
    assert first.config == TINY_CNN and first.train_seconds > 0
    assert_equal_weights(first.model, cached.model)
    cache = ModelCache(worker_runs["cache"])
    entry = cache.entry_dir(TINY_CNN)
    assert entry.is_dir()
    # The parent held the entry's lock while the child trained and stored: no deadlock.
    assert {p.name for p in cache.root.iterdir()} == {entry.name, cache.lock_path(TINY_CNN).name}


def test_two_worker_runs_give_bit_identical_weights(worker_runs: dict) -> None:
    first, again = worker_runs["first"], worker_runs["again"]
    assert not again.from_cache
    assert_equal_weights(first.model, again.model)
    assert first.history == again.history


def test_a_failing_worker_raises_its_message_and_stores_nothing(
    tiny: MnistData, tmp_path: Path
) -> None:
    bad_labels = MnistData(Split(tiny.train.images, tiny.train.labels + 20), tiny.test)
    with pytest.raises(InputError, match=r"in a worker process failed: labels must be 0\.\.9"):
        trained_model(TINY_CNN, bad_labels, cache_dir=tmp_path)  # the child's kind of error
    assert [p.name for p in tmp_path.iterdir()] == [ModelCache(tmp_path).lock_path(TINY_CNN).name]


def test_missing_data_in_the_worker_is_the_same_error_in_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child looks for MNIST itself; its DataNotFoundError comes back whole, same kind."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    with pytest.raises(DataNotFoundError) as caught:
        trained_model(TINY_CNN, cache_dir=tmp_path / "models")
    message = str(caught.value)
    assert message.startswith("training cnn in a worker process failed: MNIST was not found.")
    assert f"$MNIST_DATA_DIR {tmp_path / 'empty'}: holds none" in message  # every line of it
    assert "python -m mnist_lib data fetch" in message
    assert [p.name for p in (tmp_path / "models").iterdir()] == [
        ModelCache(tmp_path / "models").lock_path(TINY_CNN).name
    ]


def test_the_worker_module_explains_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert worker_module.main([]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m mnist_lib.worker")


def test_an_unloadable_result_is_an_error(tiny: MnistData, tmp_path: Path, monkeypatch) -> None:
    """If the child exits cleanly but nothing usable is in the cache, the parent says so."""
    monkeypatch.setattr(ModelCache, "load", lambda self, config: None)
    with pytest.raises(MnistError, match="stored no usable model"):
        trained_model(TINY_CNN.replace(epochs=1), tiny, cache_dir=tmp_path)
    assert all(p.name.startswith(("cnn-", ".cnn-")) for p in tmp_path.iterdir())
