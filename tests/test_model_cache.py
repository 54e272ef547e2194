"""Tests of the trained-model cache (mnist_lib.model_cache) and trained_model() in front of it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import filelock
import numpy as np
import pytest
from mnist_fixtures import REAL_MNIST, full_disk, read_only_folder

import mnist_lib.train as train_module
from mnist_lib import __version__, model_cache
from mnist_lib.data import MnistData, Split, load_mnist
from mnist_lib.errors import ModelCacheError
from mnist_lib.model_cache import (
    MODEL_FILE,
    RECORD_FILE,
    ModelCache,
    ModelCacheWarning,
    architecture,
)
from mnist_lib.models import build_model
from mnist_lib.train import TrainConfig, TrainResult, train, trained_model

TINY = TrainConfig(epochs=1, validation_size=0, seed=0)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache root of its own for every test; returns the model cache folder."""
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    monkeypatch.setenv("MNIST_DATA_DIR", str(REAL_MNIST))
    return tmp_path / "cache-root" / "models"


@pytest.fixture(scope="module")
def tiny_data() -> MnistData:
    data = load_mnist(REAL_MNIST)
    return MnistData(Split(data.train.images[:300], data.train.labels[:300]), data.test)


@pytest.fixture(scope="module")
def trained(tiny_data: MnistData) -> TrainResult:
    """One real (tiny) training run, shared by the tests of this module."""
    return train(TINY, tiny_data)


@pytest.fixture(scope="module")
def probe_images(tiny_data: MnistData) -> np.ndarray:
    return tiny_data.test.images[:64].astype(np.float32) / 255


@pytest.fixture()
def cache(isolated_env: Path) -> ModelCache:
    return ModelCache(isolated_env)


@pytest.fixture()
def fake_train(monkeypatch: pytest.MonkeyPatch, trained: TrainResult) -> list[TrainConfig]:
    """Replace training by handing back the shared result; returns the list of calls."""
    calls: list[TrainConfig] = []

    def fake(config: TrainConfig, data: object = None, *, progress: object = None) -> TrainResult:
        calls.append(config)
        return TrainResult(trained.model, config, dict(trained.history), trained.train_seconds)

    monkeypatch.setattr(train_module, "train", fake)
    return calls


def forbid_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> TrainResult:
        raise AssertionError("train() was called although the cache holds the model")

    monkeypatch.setattr(train_module, "train", refuse)


def predictions(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(images, training=False))


def leftovers(root: Path) -> list[str]:
    """Hidden folders or files (staging or trash) left in the cache root.

    The entries' lock files (``.<entry>.lock``) are meant to stay and are not counted.
    """
    if not root.exists():
        return []
    return sorted(
        p.name for p in root.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")
    )


def assert_equal_weights(a, b) -> None:
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb, strict=True):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------------------------------
# Store and load


def test_default_root_follows_mnist_cache_dir(isolated_env: Path) -> None:
    assert ModelCache().root == isolated_env
    assert ModelCache().entry_dir(TINY) == isolated_env / f"seed_mlp-{TINY.cache_key()}"


def test_load_from_empty_cache_is_none_without_warning(cache: ModelCache) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        assert cache.load(TINY) is None
    assert not cache.root.exists()


def test_store_then_load_round_trip(
    cache: ModelCache, trained: TrainResult, probe_images: np.ndarray
) -> None:
    entry = cache.store(trained)
    assert entry == cache.entry_dir(TINY)
    assert sorted(p.name for p in entry.iterdir()) == [MODEL_FILE, RECORD_FILE]
    assert [p.name for p in cache.root.iterdir()] == [entry.name]

    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        loaded = cache.load(TINY)
    assert loaded is not None
    assert loaded.from_cache is True
    assert loaded.config == TINY
    assert loaded.history == trained.history
    assert loaded.train_seconds == pytest.approx(trained.train_seconds)
    assert loaded.model is not trained.model
    assert_equal_weights(loaded.model, trained.model)
    np.testing.assert_array_equal(
        predictions(loaded.model, probe_images), predictions(trained.model, probe_images)
    )


def test_record_describes_the_entry(cache: ModelCache, trained: TrainResult) -> None:
    entry = cache.store(trained)
    record = json.loads((entry / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["format"] == 1
    assert record["config"] == TINY.to_dict()
    assert record["history"] == trained.history
    digest = hashlib.sha256((entry / MODEL_FILE).read_bytes()).hexdigest()
    assert record["model_sha256"] == digest
    assert record["versions"]["mnist_lib"] == __version__
    assert {"keras", "tensorflow"} <= set(record["versions"])


def test_entries_are_per_configuration(cache: ModelCache, trained: TrainResult) -> None:
    cache.store(trained)
    other = TINY.replace(seed=1)
    assert cache.entry_dir(other) != cache.entry_dir(TINY)
    assert cache.load(other) is None
    assert cache.load(TINY) is not None


def test_tuple_hyperparameters_survive_the_round_trip(
    cache: ModelCache, probe_images: np.ndarray
) -> None:
    # JSON stores the tuple as a list; the entry must still count as this configuration's.
    params = {"hidden_activations": ("relu", "relu", "relu")}
    config = TINY.replace(model_params=params)
    model = build_model("seed_mlp", **params)
    cache.store(TrainResult(model, config, {"loss": [1.0], "accuracy": [0.5]}, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        loaded = cache.load(config)
    assert loaded is not None
    assert loaded.config == config
    np.testing.assert_array_equal(
        predictions(loaded.model, probe_images), predictions(model, probe_images)
    )


def test_clear_removes_every_entry(cache: ModelCache, trained: TrainResult) -> None:
    assert cache.clear() == 0
    cache.store(trained)
    cache.store(TrainResult(trained.model, TINY.replace(seed=5), trained.history, 1.0))
    assert cache.clear() == 2
    assert list(cache.root.iterdir()) == []
    assert cache.load(TINY) is None


# ------------------------------------------------------------------------------------------
# trained_model()


def test_trained_model_trains_once_then_uses_the_cache(
    monkeypatch: pytest.MonkeyPatch,
    fake_train: list[TrainConfig],
    tiny_data: MnistData,
    trained: TrainResult,
    isolated_env: Path,
) -> None:
    first = trained_model(TINY, tiny_data)
    assert fake_train == [TINY]
    assert first.from_cache is False
    assert (isolated_env / f"seed_mlp-{TINY.cache_key()}" / MODEL_FILE).is_file()

    forbid_training(monkeypatch)
    second = trained_model(TINY, tiny_data)
    assert second.from_cache is True
    assert second.history == trained.history
    assert_equal_weights(second.model, trained.model)


def test_trained_model_with_a_real_training_run(
    monkeypatch: pytest.MonkeyPatch, tiny_data: MnistData, tmp_path: Path
) -> None:
    config = TINY.replace(seed=11)
    logs: list = []
    first = trained_model(config, tiny_data, cache_dir=tmp_path / "own", progress=logs.append)
    assert first.from_cache is False
    assert [log.epoch for log in logs] == [1]
    forbid_training(monkeypatch)
    second = trained_model(config, tiny_data, cache_dir=tmp_path / "own", progress=logs.append)
    assert second.from_cache is True
    assert len(logs) == 1  # no progress from a cache hit
    assert_equal_weights(second.model, first.model)
    assert second.history == first.history


def test_retrain_trains_again_and_replaces_the_entry(
    cache: ModelCache, fake_train: list[TrainConfig], trained: TrainResult, tiny_data: MnistData
) -> None:
    old = TrainResult(build_model("seed_mlp"), TINY, {"loss": [9.0], "accuracy": [0.1]}, 99.0)
    cache.store(old)
    result = trained_model(TINY, tiny_data, cache_dir=cache.root, retrain=True)
    assert fake_train == [TINY]
    assert result.from_cache is False
    loaded = cache.load(TINY)
    assert loaded is not None
    assert loaded.history == trained.history
    assert_equal_weights(loaded.model, trained.model)
    assert leftovers(cache.root) == []


# ------------------------------------------------------------------------------------------
# Atomic writes


class FailingModel:
    """Stands in for a Keras model whose save() writes part of a file and then fails."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def save(self, path: Path) -> None:
        Path(path).write_bytes(b"PK\x03\x04 half a model")
        raise self.error


def test_store_leaves_no_staging_folder(cache: ModelCache, trained: TrainResult) -> None:
    seen: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def spy(*args: object, **kwargs: object) -> str:
        path = real_mkdtemp(*args, **kwargs)
        seen.append(Path(path))
        return path

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "mkdtemp", spy)
        entry = cache.store(trained)
    # Staged next to the entry (Keras makes temporary folders of its own elsewhere), so the
    # final rename is atomic; the staging folder is gone afterwards.
    staged = [path for path in seen if path.parent == cache.root]
    assert len(staged) == 1
    assert staged[0].name.startswith(f".{entry.name}.")
    assert not staged[0].exists()
    assert entry.is_dir()
    assert leftovers(cache.root) == []


def test_failing_save_raises_cache_error_and_leaves_nothing(
    cache: ModelCache, trained: TrainResult
) -> None:
    broken = TrainResult(FailingModel(OSError(28, "No space left on device")), TINY, {}, 1.0)
    with pytest.raises(ModelCacheError, match="No space left on device") as caught:
        cache.store(broken)
    assert str(cache.entry_dir(TINY)) in str(caught.value)
    assert list(cache.root.iterdir()) == []
    assert cache.load(TINY) is None


def test_save_crashing_otherwise_leaves_nothing(cache: ModelCache) -> None:
    broken = TrainResult(FailingModel(RuntimeError("keras broke")), TINY, {}, 1.0)
    with pytest.raises(RuntimeError, match="keras broke"):
        cache.store(broken)
    assert list(cache.root.iterdir()) == []


def test_failing_rename_leaves_nothing(cache: ModelCache, trained: TrainResult) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "rename", refuse)
        with pytest.raises(ModelCacheError, match="cannot write the cache entry"):
            cache.store(trained)
    assert list(cache.root.iterdir()) == []


def test_second_store_of_the_same_config_keeps_the_first(
    cache: ModelCache, trained: TrainResult, probe_images: np.ndarray
) -> None:
    # Two processes trained the same configuration; the second to finish must not replace
    # the entry the first one wrote (another process may be reading it).
    other = TrainResult(build_model("seed_mlp"), TINY, {"loss": [5.0], "accuracy": [0.2]}, 42.0)
    first_entry = cache.store(trained)
    first_record = (first_entry / RECORD_FILE).read_bytes()
    second_entry = cache.store(other)
    assert second_entry == first_entry
    assert (first_entry / RECORD_FILE).read_bytes() == first_record
    assert leftovers(cache.root) == []
    assert [p.name for p in cache.root.iterdir()] == [first_entry.name]
    loaded = cache.load(TINY)
    assert loaded is not None
    assert loaded.history == trained.history
    np.testing.assert_array_equal(
        predictions(loaded.model, probe_images), predictions(trained.model, probe_images)
    )


def test_interleaved_stores_first_rename_wins(cache: ModelCache, trained: TrainResult) -> None:
    # Process B has staged its model; while it writes its record, process A renames its entry
    # into place. B's rename must then fail over to keeping A's entry.
    slow = TrainResult(build_model("seed_mlp"), TINY, {"loss": [5.0], "accuracy": [0.2]}, 42.0)
    real_record = ModelCache._record
    other_process = ModelCache(cache.root)
    done: list[Path] = []

    def record_while_another_finishes(result: TrainResult, sha: str) -> dict:
        if result is slow and not done:
            done.append(other_process.store(trained))
        return real_record(result, sha)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ModelCache, "_record", staticmethod(record_while_another_finishes))
        entry = cache.store(slow)
    assert done == [entry]
    assert leftovers(cache.root) == []
    record = json.loads((entry / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["history"] == trained.history
    assert record["train_seconds"] == trained.train_seconds


# ------------------------------------------------------------------------------------------
# Unusable entries


def _truncate_model(entry: Path) -> None:
    path = entry / MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage_model(entry: Path) -> None:
    (entry / MODEL_FILE).write_bytes(b"this is not a keras file\n" * 40)


def _garbage_model_matching_checksum(entry: Path) -> None:
    # The checksum matches, so it is Keras itself that has to refuse the file.
    _garbage_model(entry)
    _edit_record(entry, model_sha256=hashlib.sha256((entry / MODEL_FILE).read_bytes()).hexdigest())


def _truncate_model_matching_checksum(entry: Path) -> None:
    _truncate_model(entry)
    _edit_record(entry, model_sha256=hashlib.sha256((entry / MODEL_FILE).read_bytes()).hexdigest())


def _edit_record(entry: Path, **changes: object) -> None:
    path = entry / RECORD_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    record.update(changes)
    path.write_text(json.dumps(record), encoding="utf-8")


def _record_not_json(entry: Path) -> None:
    (entry / RECORD_FILE).write_text('{"format": 1, "config": ', encoding="utf-8")


def _record_not_utf8(entry: Path) -> None:
    (entry / RECORD_FILE).write_bytes(b"\xff\xfe\x00garbage")


def _record_for_another_config(entry: Path) -> None:
    _edit_record(entry, config=TINY.replace(epochs=2).to_dict())


def _record_of_another_format(entry: Path) -> None:
    _edit_record(entry, format=99)


def _record_without_history(entry: Path) -> None:
    path = entry / RECORD_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    del record["history"]
    path.write_text(json.dumps(record), encoding="utf-8")


def _record_with_malformed_history(entry: Path) -> None:
    _edit_record(entry, history={"loss": 5})


def _record_missing(entry: Path) -> None:
    (entry / RECORD_FILE).unlink()


def _model_missing(entry: Path) -> None:
    (entry / MODEL_FILE).unlink()


def _model_of_another_network(entry: Path) -> None:
    # A valid Keras file of a small convolutional network, its checksum in the record to match:
    # only comparing the network itself can tell it is not the seed_mlp asked for.
    (entry / MODEL_FILE).unlink()
    build_model("cnn", filters=(2,), dense_units=4).save(entry / MODEL_FILE)
    _edit_record(entry, model_sha256=hashlib.sha256((entry / MODEL_FILE).read_bytes()).hexdigest())


def _file_instead_of_folder(entry: Path) -> None:
    shutil.rmtree(entry)
    entry.write_text("not an entry folder")


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated model": (_truncate_model, "checksum"),
    "truncated model, matching checksum": (_truncate_model_matching_checksum, "cannot be loaded"),
    "garbage model": (_garbage_model, "checksum"),
    "garbage model, matching checksum": (_garbage_model_matching_checksum, "cannot be loaded"),
    "record not JSON": (_record_not_json, "cannot be read"),
    "record not UTF-8": (_record_not_utf8, "cannot be read"),
    "record for another config": (_record_for_another_config, "different configuration"),
    "record of another format": (_record_of_another_format, "format"),
    "record without history": (_record_without_history, "has no history"),
    "record with malformed history": (_record_with_malformed_history, "malformed history"),
    "record missing": (_record_missing, "cannot be read"),
    "model missing": (_model_missing, "missing"),
    "model of another network, matching checksum": (
        _model_of_another_network,
        r"holds another network than record\.json describes \(layers \['Reshape', 'Conv2D'",
    ),
    "a file instead of the entry folder": (_file_instead_of_folder, "a file, not an entry folder"),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_unusable_entry_is_removed_and_rebuilt(
    corruption: str,
    cache: ModelCache,
    trained: TrainResult,
    fake_train: list[TrainConfig],
    tiny_data: MnistData,
) -> None:
    damage, reason = CORRUPTIONS[corruption]
    entry = cache.store(trained)
    damage(entry)

    with pytest.warns(ModelCacheWarning, match=reason) as caught:
        assert cache.load(TINY) is None
    assert str(entry) in str(caught[0].message)
    assert not entry.exists()
    assert list(cache.root.iterdir()) == []  # no trash folder left behind either

    with pytest.warns(ModelCacheWarning):
        # Damage it again: trained_model must warn, retrain once and store a good entry.
        cache.store(trained)
        damage(entry)
        rebuilt = trained_model(TINY, tiny_data, cache_dir=cache.root)
    assert fake_train == [TINY]
    assert rebuilt.from_cache is False
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        again = cache.load(TINY)
    assert again is not None
    assert_equal_weights(again.model, trained.model)
    assert leftovers(cache.root) == []


def test_record_lists_the_network_and_an_older_record_without_it_still_loads(
    cache: ModelCache, trained: TrainResult
) -> None:
    entry = cache.store(trained)
    record = json.loads((entry / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["architecture"] == architecture(trained.model)
    assert record["architecture"]["layers"] == ["Flatten", "Dense", "Dense", "Dense", "Dense"]
    assert record["architecture"]["weights"][:2] == [[784, 128], [128]]
    # Entries stored before the record listed the network stay valid: no retraining.
    del record["architecture"]
    (entry / RECORD_FILE).write_text(json.dumps(record), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        assert cache.load(TINY) is not None


def test_store_replaces_a_stray_file_where_the_entry_belongs(
    cache: ModelCache, trained: TrainResult
) -> None:
    cache.root.mkdir(parents=True)
    cache.entry_dir(TINY).write_text("a stray file")
    entry = cache.store(trained)
    assert entry.is_dir()
    assert sorted(p.name for p in cache.root.iterdir()) == [entry.name]
    assert cache.load(TINY) is not None


def test_clear_moves_entries_aside_and_keeps_the_locks(
    cache: ModelCache, trained: TrainResult
) -> None:
    cache.store(trained)
    with cache.lock(TINY):
        assert cache.lock_path(TINY).is_file()
    assert cache.clear() == 1
    assert [p.name for p in cache.root.iterdir()] == [cache.lock_path(TINY).name]


def test_the_lock_is_held_until_released(cache: ModelCache) -> None:
    with cache.lock(TINY):
        other = filelock.FileLock(cache.lock_path(TINY))
        with pytest.raises(filelock.Timeout):
            other.acquire(timeout=0)
    other.acquire(timeout=0)  # released: free for the next process
    other.release()


def _meanwhile(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Run ``action`` once, as another process would, in the middle of the next read."""
    real_sha256 = model_cache._sha256
    done: list[bool] = []

    def sha256_then_act(path: Path) -> str:
        digest = real_sha256(path)
        if not done:
            done.append(True)
            action()
        return digest

    monkeypatch.setattr(model_cache, "_sha256", sha256_then_act)


def test_an_entry_removed_while_it_is_read_is_a_miss_not_damage(
    cache: ModelCache, trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.store(trained)
    _meanwhile(monkeypatch, lambda: ModelCache(cache.root).discard(TINY))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        assert cache.load(TINY) is None
    assert list(cache.root.iterdir()) == []


def test_an_entry_replaced_while_it_is_read_gives_the_new_one_whole(
    cache: ModelCache, trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The record is read from the old entry, the model file would come from the new one.
    old = TrainResult(build_model("seed_mlp"), TINY, {"loss": [9.0], "accuracy": [0.1]}, 99.0)
    cache.store(old)

    def replace() -> None:
        other = ModelCache(cache.root)
        other.discard(TINY)
        other.store(trained)

    _meanwhile(monkeypatch, replace)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelCacheWarning)
        loaded = cache.load(TINY)
    assert loaded is not None
    assert loaded.history == trained.history
    assert_equal_weights(loaded.model, trained.model)


# ------------------------------------------------------------------------------------------
# Unwritable cache


def test_cache_root_that_is_a_file(tmp_path: Path, trained: TrainResult) -> None:
    root = tmp_path / "not-a-folder"
    root.write_text("a file where the cache should be")
    cache = ModelCache(root)
    assert cache.load(TINY) is None
    with pytest.raises(ModelCacheError) as caught:
        cache.store(trained)
    message = str(caught.value)
    assert "cannot write to the model cache" in message
    assert str(root) in message
    assert "MNIST_CACHE_DIR" in message
    assert root.read_text() == "a file where the cache should be"


def test_cache_root_under_a_file(tmp_path: Path, trained: TrainResult) -> None:
    (tmp_path / "blocker").write_text("")
    with pytest.raises(ModelCacheError, match="cannot write to the model cache"):
        ModelCache(tmp_path / "blocker" / "models").store(trained)


def test_read_only_cache_root(
    cache: ModelCache, trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, which writes anywhere; simulate what a read-only folder answers.
    def read_only(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(cache.root))

    cache.root.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(ModelCacheError, match="Permission denied") as caught:
        cache.store(trained)
    assert "MNIST_CACHE_DIR" in str(caught.value)
    assert list(cache.root.iterdir()) == []


@pytest.mark.parametrize("mount", [True, False], ids=["mount", "no mount"])
def test_full_disk_is_reported_and_leaves_nothing(
    tmp_path: Path, trained: TrainResult, mount: bool
) -> None:
    with full_disk(tmp_path, mount=mount) as fault:
        cache = ModelCache(fault.path / "models")
        with pytest.raises(ModelCacheError) as caught:
            cache.store(trained)
        message = str(caught.value)
        assert os.strerror(fault.errno) in message
        assert "Free some space, or set MNIST_CACHE_DIR to a folder on another disk" in message
        assert list(cache.root.iterdir()) == []  # no staging folder, no half-written model
        assert cache.load(TINY) is None

        fault.lift()
        cache.store(trained)
        assert cache.load(TINY) is not None


def test_read_only_cache_still_serves_its_models_and_refuses_to_train(
    tmp_path: Path, trained: TrainResult, fake_train: list[TrainConfig], tiny_data: MnistData
) -> None:
    def store_one(folder: Path) -> None:
        ModelCache(folder / "models").store(trained)

    with read_only_folder(tmp_path, prepare=store_one) as fault:
        root = fault.path / "models"
        with warnings.catch_warnings():
            warnings.simplefilter("error", ModelCacheWarning)
            assert trained_model(TINY, tiny_data, cache_dir=root).from_cache is True
        # A missing model: refused before any training, whose result could not be kept.
        with pytest.raises(ModelCacheError, match=os.strerror(fault.errno)) as caught:
            trained_model(TINY.replace(seed=3), tiny_data, cache_dir=root)
        assert "MNIST_CACHE_DIR" in str(caught.value)
        assert fake_train == []

        fault.lift()
        assert trained_model(TINY.replace(seed=3), tiny_data, cache_dir=root).from_cache is False
        assert fake_train == [TINY.replace(seed=3)]


def test_trained_model_reports_an_unwritable_cache(
    tmp_path: Path, fake_train: list[TrainConfig], tiny_data: MnistData
) -> None:
    root = tmp_path / "file-root"
    root.write_text("")
    with pytest.raises(ModelCacheError, match="cannot write to the model cache"):
        trained_model(TINY, tiny_data, cache_dir=root)
