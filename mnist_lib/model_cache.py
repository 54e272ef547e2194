"""The trained-model cache: a trained model is computed once and then handed out instantly.

Each entry is a folder named after the model and :meth:`TrainConfig.cache_key`, holding the Keras
model file and ``record.json`` (configuration, history, training time, versions, and the SHA-256
of the model file). An entry is written into a temporary folder and renamed into place in one
step, so a reader sees a whole entry or none; when two processes train the same model at once, the
first rename wins and the other process keeps its own result without touching the entry. An entry
that cannot be read, or whose model file does not match its record, is never trusted: it is
removed with a warning and the model is trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_lib import __version__
from mnist_lib.errors import ModelCacheError
from mnist_lib.paths import model_cache_dir

if TYPE_CHECKING:
    from mnist_lib.train import TrainConfig, TrainResult

MODEL_FILE = "model.keras"
RECORD_FILE = "record.json"
RECORD_FORMAT = 1


class ModelCacheWarning(UserWarning):
    """A cache entry was unusable and is being rebuilt."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelCache:
    """A folder of trained models keyed by their full training configuration.

    ``root`` defaults to :func:`mnist_lib.paths.model_cache_dir` (``$MNIST_CACHE_DIR/models``).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else model_cache_dir()

    def entry_dir(self, config: TrainConfig) -> Path:
        """Where the entry for ``config`` lives (whether or not it exists yet)."""
        return self.root / f"{config.model}-{config.cache_key()}"

    def load(self, config: TrainConfig) -> TrainResult | None:
        """The cached result for ``config``, or None when there is none or it is unusable."""
        entry = self.entry_dir(config)
        if not entry.exists():
            return None
        try:
            return self._read(entry, config)
        except (ModelCacheError, OSError, ValueError) as error:
            warnings.warn(
                f"the cached model at {entry} is unusable ({error}); it is removed and the "
                "model will be trained again",
                ModelCacheWarning,
                stacklevel=2,
            )
            self._remove(entry)
            return None

    def _read(self, entry: Path, config: TrainConfig) -> TrainResult:
        import keras

        from mnist_lib.train import TrainResult

        record_path = entry / RECORD_FILE
        model_path = entry / MODEL_FILE
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelCacheError(f"{RECORD_FILE} cannot be read: {error}") from error
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise ModelCacheError(f"{RECORD_FILE} is not a record of format {RECORD_FORMAT}")
        # Compare as JSON stored it: a tuple hyper-parameter comes back as a list.
        if record.get("config") != json.loads(json.dumps(config.to_dict())):
            raise ModelCacheError(f"{RECORD_FILE} describes a different configuration")
        if not model_path.is_file():
            raise ModelCacheError(f"{MODEL_FILE} is missing")
        if _sha256(model_path) != record.get("model_sha256"):
            raise ModelCacheError(f"{MODEL_FILE} does not match the checksum in {RECORD_FILE}")
        try:
            model = keras.saving.load_model(model_path, compile=False)
        except Exception as error:  # Keras raises many kinds for a broken file
            raise ModelCacheError(f"{MODEL_FILE} cannot be loaded: {error}") from error
        history = record.get("history")
        if not isinstance(history, dict):
            raise ModelCacheError(f"{RECORD_FILE} has no history")
        try:
            history = {name: [float(v) for v in values] for name, values in history.items()}
            train_seconds = float(record.get("train_seconds", 0.0))
        except (TypeError, ValueError) as error:
            raise ModelCacheError(f"{RECORD_FILE} has a malformed history: {error}") from error
        return TrainResult(
            model=model,
            config=config,
            history=history,
            train_seconds=train_seconds,
            from_cache=True,
        )

    def store(self, result: TrainResult) -> Path:
        """Write ``result`` as a complete entry, atomically; returns the entry folder.

        If another process stored the same configuration meanwhile, its entry is kept.
        """
        entry = self.entry_dir(result.config)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=self.root))
        except OSError as error:
            raise ModelCacheError(
                f"cannot write to the model cache {self.root}: {error}. Set MNIST_CACHE_DIR to a "
                "writable folder"
            ) from error
        try:
            model_path = staging / MODEL_FILE
            result.model.save(model_path)
            record = self._record(result, _sha256(model_path))
            (staging / RECORD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
            try:
                staging.rename(entry)
            except OSError:
                if not entry.exists():
                    raise
                # another process finished the same model first: keep its entry
        except OSError as error:
            raise ModelCacheError(f"cannot write the cache entry {entry}: {error}") from error
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return entry

    @staticmethod
    def _record(result: TrainResult, model_sha256: str) -> dict[str, Any]:
        import keras
        import tensorflow as tf

        return {
            "format": RECORD_FORMAT,
            "config": result.config.to_dict(),
            "history": result.history,
            "train_seconds": result.train_seconds,
            "model_sha256": model_sha256,
            "versions": {
                "mnist_lib": __version__,
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
            },
        }

    def _remove(self, entry: Path) -> None:
        """Move an entry aside in one rename, then delete it, so no reader sees half of it."""
        trash = entry.with_name(f".{entry.name}.{os.getpid()}.removed")
        try:
            entry.rename(trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def discard(self, config: TrainConfig) -> None:
        """Remove the entry for ``config``, if there is one (a retrain replaces it)."""
        self._remove(self.entry_dir(config))

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        if not self.root.exists():
            return 0
        # hidden folders are other processes' writes in progress: not entries, left alone
        entries = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        for path in entries:
            shutil.rmtree(path, ignore_errors=True)
        return len(entries)
