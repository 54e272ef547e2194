"""The trained-model cache: a trained model is computed once and then handed out instantly.

Each entry is a folder named after the model and :meth:`TrainConfig.cache_key`, holding the Keras
model file and ``record.json`` (configuration, history, training time, versions, and the SHA-256
of the model file). An entry is written into a temporary folder and renamed into place in one
step, so a reader sees a whole entry or none; when two processes train the same model at once, the
first rename wins and the other process keeps its own result without touching the entry. An entry
that cannot be read, or whose model file does not match its record (its checksum, or the layers
and weight shapes the record lists), is never trusted: it is removed with a warning and the model
is trained again. An entry that another process removes or replaces while this one reads it is
not damage: the read looks again, and finds the new entry or none.

Each entry has a lock, a hidden file ``.<entry>.lock`` in the cache root held with ``filelock``:
:func:`mnist_lib.train.trained_model` holds it while it trains and stores, so when two processes
ask for the same missing model at once, one trains it and the other waits and then loads it.
Reading takes no lock, so a read-only cache still serves the models it holds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock

from mnist_lib import __version__
from mnist_lib.errors import ModelCacheError
from mnist_lib.paths import ENV_CACHE_DIR, model_cache_dir

if TYPE_CHECKING:
    from mnist_lib.train import TrainConfig, TrainResult

MODEL_FILE = "model.keras"
RECORD_FILE = "record.json"
RECORD_FORMAT = 1
_READ_ATTEMPTS = 3
"""How often a read looks again at an entry that another process replaced meanwhile."""


class ModelCacheWarning(UserWarning):
    """A cache entry was unusable and is being rebuilt."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def architecture(model: Any) -> dict[str, list[Any]]:
    """What a model is built of: its layers' kinds and its weights' shapes, in order.

    Cheap to compute from a loaded model and the same before saving and after loading, so the
    record can say which network its model file must hold: a model file of another network
    with a checksum to match is refused, not handed out as the model asked for.
    """
    return {
        "layers": [type(layer).__name__ for layer in model.layers],
        "weights": [[int(size) for size in weight.shape] for weight in model.weights],
    }


def _advice(error: OSError) -> str:
    """What to do when writing into the cache failed with ``error``."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"Free some space, or set {ENV_CACHE_DIR} to a folder on another disk"
    return f"Set {ENV_CACHE_DIR} to a writable folder"


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which folder is at ``path`` now (device, inode, change time), or None when nothing is.

    An entry is replaced only by a rename and removed only by a rename first, so a different
    identity before and after a read means another process changed the entry meanwhile.
    """
    try:
        status = os.lstat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_ctime_ns)


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
        for _ in range(_READ_ATTEMPTS):
            seen = _identity(entry)
            if seen is None:
                return None
            try:
                result = self._read(entry, config)
            except (ModelCacheError, OSError, ValueError) as error:
                if _identity(entry) == seen:  # the same entry as before the read: it is damaged
                    problem = error
                    break
                continue  # removed or replaced by another process while this one read it
            if _identity(entry) == seen:
                return result
            # replaced while this one read it: the record and the model may be from two entries
        else:
            return None
        warnings.warn(
            f"the cached model at {entry} is unusable ({problem}); it is removed and the "
            "model will be trained again",
            ModelCacheWarning,
            stacklevel=2,
        )
        self._remove(entry)
        return None

    def _read(self, entry: Path, config: TrainConfig) -> TrainResult:
        import keras

        from mnist_lib.train import TrainResult

        if not entry.is_dir():
            raise ModelCacheError("it is a file, not an entry folder")
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
        expected = record.get("architecture")
        if expected is not None and architecture(model) != expected:  # older records lack it
            raise ModelCacheError(
                f"{MODEL_FILE} holds another network than {RECORD_FILE} describes (layers "
                f"{architecture(model)['layers']}, not {expected.get('layers')})"
            )
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
            raise ModelCacheError(self._unwritable(error)) from error
        try:
            model_path = staging / MODEL_FILE
            result.model.save(model_path)
            record = self._record(result, _sha256(model_path))
            (staging / RECORD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
            try:
                staging.rename(entry)
            except OSError:
                if entry.is_dir() and not entry.is_symlink():
                    pass  # another process finished the same model first: keep its entry
                elif os.path.lexists(entry):  # a stray file where the entry belongs: not an entry
                    self._remove(entry)
                    staging.rename(entry)
                else:
                    raise
        except OSError as error:
            raise ModelCacheError(
                f"cannot write the cache entry {entry}: {error}. {_advice(error)}"
            ) from error
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return entry

    def _unwritable(self, error: OSError) -> str:
        return f"cannot write to the model cache {self.root}: {error}. {_advice(error)}"

    def lock_path(self, config: TrainConfig) -> Path:
        """The hidden lock file of the entry for ``config``, in the cache root."""
        return self.root / f".{self.entry_dir(config).name}.lock"

    @contextlib.contextmanager
    def lock(self, config: TrainConfig) -> Iterator[None]:
        """Hold the lock of the entry for ``config``: waits while another process holds it.

        Whoever trains and stores a model holds it, so that a second process asking for the same
        model waits for the first one's entry instead of training it again. The lock is an
        ``flock`` on a file that stays in place (the kernel releases it if the holder dies), so a
        crashed process never leaves the entry locked.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = filelock.FileLock(self.lock_path(config))
            lock.acquire()
        except OSError as error:
            raise ModelCacheError(self._unwritable(error)) from error
        try:
            yield
        finally:
            lock.release()

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
            "architecture": architecture(result.model),
            "versions": {
                "mnist_lib": __version__,
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
            },
        }

    def _remove(self, entry: Path) -> None:
        """Move an entry aside in one rename, then delete it, so no reader sees half of it."""
        trash = entry.with_name(f".{entry.name}.{os.getpid()}.{secrets.token_hex(4)}.removed")
        try:
            entry.rename(trash)
        except OSError:
            return
        if trash.is_dir() and not trash.is_symlink():
            shutil.rmtree(trash, ignore_errors=True)
        else:  # a stray file or link where an entry folder belongs
            trash.unlink(missing_ok=True)

    def discard(self, config: TrainConfig) -> None:
        """Remove the entry for ``config``, if there is one (a retrain replaces it)."""
        self._remove(self.entry_dir(config))

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        if not self.root.exists():
            return 0
        # hidden names are other processes' writes in progress and the entries' locks: left alone
        entries = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        for path in entries:
            self._remove(path)
        return len(entries)
