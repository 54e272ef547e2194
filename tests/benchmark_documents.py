"""Small, made-up benchmark results in the format the benchmarks write, for the report's tests."""

from __future__ import annotations

from typing import Any

MACHINE = {
    "cpu": "Test CPU",
    "logical_cpus": 2,
    "usable_cpus": 2,
    "memory_gib": 24.0,
    "system": "Linux-test",
    "python": "3.11.7",
    "tensorflow": "2.21.0",
    "keras": "3.15.1",
    "mnist_lib": "0.2.0",
    "commit": "abc1234567",
    "date": "2026-12-01",
}


def _fit(seconds: float, accuracy: float) -> dict[str, Any]:
    return {"seconds": seconds, "epoch_seconds": [seconds / 10] * 10, "test_accuracy": accuracy}


def training(plain_seconds: float = 100.0, lib_seconds: float = 10.0) -> dict[str, Any]:
    """Plain fit against mnist_lib: ``plain_seconds / lib_seconds`` is the speed-up."""
    return {
        "format": 1,
        "benchmark": "training",
        "machine": MACHINE,
        "settings": {"epochs": 10, "batch_size": 32, "seed": 0, "repeats": 3},
        "runs": {
            "plain model.fit": [
                _fit(plain_seconds, 0.975),
                _fit(plain_seconds + 5, 0.974),
                _fit(plain_seconds - 5, 0.976),
            ],
            "fit, 1 thread/op": [_fit(60.0, 0.977)] * 3,
            "mnist_lib.train": [
                _fit(lib_seconds, 0.977),
                _fit(lib_seconds + 1, 0.977),
                _fit(lib_seconds - 1, 0.977),
            ],
        },
        "cnn": {
            "recipe": "best-cnn",
            "epochs_run": 3,
            "full_epochs": 15,
            "threads": 2,
            "train_images": 54_000,
            "runs": [{"seconds": 100.0, "epoch_seconds": [40.0, 30.0, 32.0]}],
        },
    }


def inference() -> dict[str, Any]:
    rates = {
        "model.predict": {"1": 15.0, "1000": 10_000.0},
        "predict_proba": {"1": 1_500.0, "1000": 250_000.0},
    }
    return {
        "format": 1,
        "benchmark": "inference",
        "machine": MACHINE,
        "settings": {"batches": [1, 1000], "rounds": 5},
        "models": {
            "reference": {"model": "seed_mlp", "parameters": 111_146, "rates": rates},
            "cnn": {"model": "cnn", "parameters": 225_706, "rates": rates},
        },
    }


def _run(seconds: float, peak: float = 900.0) -> dict[str, float]:
    return {"seconds": seconds, "peak_mib": peak}


def book(rebuild_seconds: float = 5.0) -> dict[str, Any]:
    return {
        "format": 1,
        "benchmark": "book",
        "machine": MACHINE,
        "settings": {"repeats": 3, "cold": True},
        "site": {"clean": [_run(17.0)] * 3, "rebuild": [_run(rebuild_seconds)] * 3},
        "nbval": {
            "book/01_data": {"cold": [_run(8.0)], "warm": [_run(7.0), _run(9.0), _run(8.0)]},
            "book/08_convolutional": {
                "cold": [_run(370.0, 2_000.0)],
                "warm": [_run(20.0)] * 3,
            },
        },
    }
