"""The model cache shared by two real processes at the same moment.

Each test starts one Python child process and lets it begin together with the test's own
process, on tiny synthetic data; most of each test's seconds is the child starting TensorFlow.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from mnist_fixtures import Child, started_together, synthetic_arrays

from mnist_lib import model_cache
from mnist_lib.data import MnistData, Split
from mnist_lib.model_cache import ModelCache
from mnist_lib.train import TrainConfig, trained_model

# Dropout makes training skip XLA, whose compilation would take most of the test's time.
TINY = TrainConfig(epochs=1, batch_size=64, validation_size=0, model_params={"dropout": 0.1})

_TRAIN = """
import numpy as np
from mnist_fixtures import synthetic_arrays
from mnist_lib.data import MnistData, Split
from mnist_lib.train import TrainConfig, trained_model

arrays = synthetic_arrays(n_train=64, n_test=8)
data = MnistData(*(Split(arrays[f"x_{s}"], arrays[f"y_{s}"]) for s in ("train", "test")))
config = TrainConfig.from_dict(json.loads(sys.argv[1]))
started_together()
result = trained_model(config, data, cache_dir=sys.argv[2])
np.savez(sys.argv[3], *result.model.get_weights())
report({"from_cache": result.from_cache, "history": result.history})
"""


def test_two_processes_asking_for_one_model_train_it_once(tmp_path: Path) -> None:
    arrays = synthetic_arrays(n_train=64, n_test=8)
    data = MnistData(*(Split(arrays[f"x_{s}"], arrays[f"y_{s}"]) for s in ("train", "test")))
    cache = ModelCache(tmp_path / "models")
    child = Child(_TRAIN, json.dumps(TINY.to_dict()), str(cache.root), str(tmp_path / "w.npz"))
    with started_together(child):
        here = trained_model(TINY, data, cache_dir=cache.root)
        there = child.result()

    assert sorted([here.from_cache, there["from_cache"]]) == [False, True]  # one trained
    assert here.history == there["history"]
    with np.load(tmp_path / "w.npz") as theirs:
        ours = here.model.get_weights()
        assert len(theirs.files) == len(ours) == 8  # four Dense layers: kernels and biases
        for name, weights in zip(theirs.files, ours, strict=True):
            np.testing.assert_array_equal(theirs[name], weights)
    assert {p.name for p in cache.root.iterdir()} == {
        cache.entry_dir(TINY).name,
        cache.lock_path(TINY).name,
    }


_WRITE = """
from pathlib import Path
from mnist_lib import model_cache
from mnist_lib.model_cache import ModelCache
from mnist_lib.models import build_model
from mnist_lib.train import TrainConfig, TrainResult

cache, stop = ModelCache(sys.argv[2]), Path(sys.argv[3])
config = TrainConfig.from_dict(json.loads(sys.argv[1]))
result = TrainResult(build_model("seed_mlp"), config, {"loss": [1.0], "accuracy": [0.5]}, 1.0)
started_together()
cycles = 0
while not stop.exists():
    cache.store(result)
    cache.store(result)  # staged in full, then kept out: the entry stays in place meanwhile
    cache.discard(config)
    cycles += 1
cache.store(result)
report({"cycles": cycles})
"""

HISTORY = {"loss": [1.0], "accuracy": [0.5]}


def test_a_reader_never_sees_half_an_entry_while_another_process_rewrites_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow disk: each read pauses between checking the model file and loading it, where an
    # entry removed meanwhile shows (a pause, not a timing: nothing here depends on its length).
    real_sha256 = model_cache._sha256

    def slow_sha256(path: Path) -> str:
        digest = real_sha256(path)
        time.sleep(0.02)
        return digest

    monkeypatch.setattr(model_cache, "_sha256", slow_sha256)
    cache = ModelCache(tmp_path / "models")
    stop = tmp_path / "stop"
    writer = Child(_WRITE, json.dumps(TINY.to_dict()), str(cache.root), str(stop))
    hits = misses = 0
    with warnings.catch_warnings(record=True) as caught, started_together(writer):
        warnings.simplefilter("always")
        while hits < 20 and writer.running():  # the writer goes on until 20 whole entries are read
            loaded = cache.load(TINY)
            if loaded is None:
                misses += 1
                continue
            hits += 1
            assert loaded.history == HISTORY
            assert loaded.model.count_params() == 111_146
        stop.touch()
        wrote = writer.result()

    assert [str(w.message) for w in caught if w.category is not DeprecationWarning] == []
    assert hits == 20
    assert wrote["cycles"] >= 1 and misses >= 1  # entries came and went while this one read
    final = cache.load(TINY)
    assert final is not None and final.history == HISTORY
    assert [p.name for p in cache.root.iterdir()] == [cache.entry_dir(TINY).name]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The children inherit this: no data downloads, and a cache of the test's own."""
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
