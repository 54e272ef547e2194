"""The model cache shared by two real processes at the same moment.

Each test starts one Python child process and lets it begin together with the test's own
process, on tiny synthetic data; most of each test's seconds is the child starting TensorFlow.
"""

from __future__ import annotations

import json
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
from mnist_lib.model_cache import ModelCache
from mnist_lib.models import build_model
from mnist_lib.train import TrainConfig, TrainResult

cache, rounds = ModelCache(sys.argv[2]), int(sys.argv[3])
config = TrainConfig.from_dict(json.loads(sys.argv[1]))


def version(number):
    # Fresh random weights; the record says which, so a reader can tell a mix of two entries.
    model = build_model("seed_mlp")
    history = {"loss": [float(model.get_weights()[0].sum())], "accuracy": [float(number)]}
    return TrainResult(model, config, history, 1.0)


started_together()
for number in range(rounds):
    cache.store(version(number))
    cache.store(version(-1))  # staged in full, then kept out: the stored entry stays as it is
    print("stored", flush=True)
    assert sys.stdin.readline() == "now\\n"  # the reader is in the middle of reading the entry
    cache.discard(config)
    if number % 2:
        cache.store(version(100 + number))  # replaced, not only removed
    print("changed", flush=True)
report({"rounds": rounds})
"""


def test_a_reader_never_sees_half_an_entry_while_another_process_rewrites_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round, the writer changes the entry exactly while this process is reading it.

    It is removed (even rounds) or replaced by another (odd rounds) after this process has read
    the record and checked the model file, and before it loads the model: the read must give
    nothing, or the new entry whole, and never call the entry damaged.
    """
    cache = ModelCache(tmp_path / "models")
    writer = Child(_WRITE, json.dumps(TINY.to_dict()), str(cache.root), "6")
    real_sha256 = model_cache._sha256
    midway: list[bool] = []

    def sha256_then_let_the_writer_change_it(path: Path) -> str:
        digest = real_sha256(path)
        if not midway:  # once per round: the retries that follow read undisturbed
            midway.append(True)
            writer.send("now")
            assert writer.receive() == "changed"
        return digest

    monkeypatch.setattr(model_cache, "_sha256", sha256_then_let_the_writer_change_it)
    found: list[float | None] = []
    with warnings.catch_warnings(record=True) as caught, started_together(writer):
        warnings.simplefilter("always")
        for _ in range(6):
            assert writer.receive() == "stored"
            midway.clear()
            loaded = cache.load(TINY)
            assert midway == [True]
            if loaded is not None:  # whole: the record and the model of one and the same entry
                assert loaded.history["loss"][0] == pytest.approx(
                    float(loaded.model.get_weights()[0].sum()), rel=1e-6
                )
            found.append(None if loaded is None else loaded.history["accuracy"][0])
        assert writer.result() == {"rounds": 6}

    assert [str(w.message) for w in caught if w.category is not DeprecationWarning] == []
    assert found == [None, 101.0, None, 103.0, None, 105.0]
    assert [p.name for p in cache.root.iterdir()] == [cache.entry_dir(TINY).name]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The children inherit this: no data downloads, and a cache of the test's own."""
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
