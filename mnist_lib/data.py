"""Find, download, verify and parse MNIST, so every chapter gets the same checked arrays.

``load_mnist()`` looks in a fixed order (an explicit folder, ``$MNIST_DATA_DIR``, the cache folder)
for the four standard IDX files (gzipped or not) or a Keras ``mnist.npz``. If no place has them and
downloads are allowed, it fetches the four files from the public mirrors into the cache folder.
Every file is checked before use: magic number, dimensions, item counts, exact length and, by
default, the SHA-256 of the decompressed content. Anything wrong raises a
:class:`~mnist_lib.errors.DataError` that names the file and the problem; a corrupt copy is never
skipped silently, and a failed download never leaves a file behind that the loader would read.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import http.client
import math
import os
import struct
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from mnist_lib import __version__, paths
from mnist_lib.errors import DataError, DataNotFoundError, DownloadError, InputError

__all__ = [
    "DOWNLOAD_DEADLINE",
    "ENV_OFFLINE",
    "FILES",
    "MIRRORS",
    "NPZ_NAME",
    "FileCheck",
    "MnistData",
    "MnistFile",
    "PixelStats",
    "Split",
    "class_counts",
    "download_mnist",
    "format_class_counts",
    "load_mnist",
    "locate_mnist",
    "mean_images",
    "pixel_stats",
    "read_idx",
    "search_dirs",
    "verify_mnist",
]

MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
"""Public mirrors serving the four gzipped files, tried in this order."""

ENV_OFFLINE = "MNIST_OFFLINE"
"""Environment variable that turns downloads off when set to "1", "true" or "yes"."""

DOWNLOAD_DEADLINE = 600.0
"""Seconds one file may take in all, so a server trickling bytes cannot hang a download forever."""

NPZ_NAME = "mnist.npz"
"""File name of the Keras single-file copy (keys x_train, y_train, x_test, y_test)."""

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049
_ROWS = _COLS = 28
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK"
_CHUNK = 1 << 16
_OFFLINE_VALUES = frozenset({"1", "true", "yes"})


@dataclass(frozen=True)
class MnistFile:
    """One of the four standard files and what its decompressed content must be."""

    name: str
    kind: Literal["images", "labels"]
    split: Literal["train", "test"]
    count: int
    size: int
    sha256: str

    @property
    def raw_name(self) -> str:
        """The name of the uncompressed copy (no ``.gz``)."""
        return self.name.removesuffix(".gz")

    @property
    def npz_key(self) -> str:
        """The key of the same array in a Keras ``mnist.npz``."""
        return f"{'x' if self.kind == 'images' else 'y'}_{self.split}"


FILES: tuple[MnistFile, ...] = (
    MnistFile(
        "train-images-idx3-ubyte.gz",
        "images",
        "train",
        60_000,
        47_040_016,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    MnistFile(
        "train-labels-idx1-ubyte.gz",
        "labels",
        "train",
        60_000,
        60_008,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    MnistFile(
        "t10k-images-idx3-ubyte.gz",
        "images",
        "test",
        10_000,
        7_840_016,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        "labels",
        "test",
        10_000,
        10_008,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
)
"""The four standard files with the item count, size and SHA-256 of their decompressed content."""


class Split(NamedTuple):
    """Images and labels of one split, so ``x, y = split`` works."""

    images: np.ndarray
    labels: np.ndarray


class MnistData(NamedTuple):
    """Both splits, so ``(x_train, y_train), (x_test, y_test) = load_mnist()`` works."""

    train: Split
    test: Split


class FileCheck(NamedTuple):
    """The verdict on one file, for a command-line ``verify`` report."""

    name: str
    path: Path | None
    ok: bool
    problem: str


class _Found(NamedTuple):
    """What a folder holds: the IDX files present (by standard name) and/or an npz."""

    idx: dict[str, Path]
    npz: Path | None


class _MirrorError(Exception):
    """One mirror failed for one file; the download moves on to the next mirror."""


# --------------------------------------------------------------------------------------------
# Parsing


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse one IDX file, gzipped or not: images as (N, 28, 28) uint8, labels as (N,) uint8."""
    path = Path(path)
    return _parse_idx(_read_content(path), path)


def _read_content(path: Path) -> bytes:
    """The file's bytes, decompressed when they are gzip (told by the magic bytes, not the name)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not raw:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as exc:
        raise DataError(f"{path}: the gzip stream is truncated (file cut short?)") from exc
    except (OSError, zlib.error) as exc:
        raise DataError(f"{path}: the gzip data is corrupt ({exc})") from exc


def _idx_header(kind: str, count: int) -> bytes:
    """The canonical IDX header, to hash an npz array exactly as the equivalent IDX file."""
    if kind == "images":
        return struct.pack(">IIII", _IMAGES_MAGIC, count, _ROWS, _COLS)
    return struct.pack(">II", _LABELS_MAGIC, count)


def _parse_idx(content: bytes, path: Path) -> np.ndarray:
    """Check the IDX header and exact length, then return the pixels or labels as uint8."""
    if len(content) < 8:
        raise DataError(f"{path}: only {len(content)} bytes, too short for an IDX header")
    magic, count = struct.unpack_from(">II", content)
    if magic == _IMAGES_MAGIC:
        if len(content) < 16:
            raise DataError(f"{path}: only {len(content)} bytes, too short for an IDX header")
        rows, cols = struct.unpack_from(">II", content, 8)
        if (rows, cols) != (_ROWS, _COLS):
            raise DataError(f"{path}: images are {rows}x{cols} pixels, expected 28x28")
        header, shape, kind = 16, (count, _ROWS, _COLS), "images"
    elif magic == _LABELS_MAGIC:
        header, shape, kind = 8, (count,), "labels"
    else:
        raise DataError(
            f"{path}: not an MNIST IDX file (magic number {magic:#010x} is neither "
            f"{_IMAGES_MAGIC} for images nor {_LABELS_MAGIC} for labels)"
        )
    expected = header + math.prod(shape)
    if len(content) != expected:
        how = "truncated" if len(content) < expected else "has extra bytes"
        raise DataError(
            f"{path}: {how}: the header announces {count} {kind} ({expected} bytes) "
            f"but the content is {len(content)} bytes"
        )
    # A copy, so callers get an ordinary writable array rather than a view of immutable bytes.
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape).copy()


def _check_array(array: np.ndarray, spec: MnistFile, where: str) -> None:
    """Check that an array is the kind of data ``spec`` describes (shape and label values)."""
    kind = "images" if array.ndim == 3 else "labels"
    if kind != spec.kind:
        raise DataError(
            f"{where}: holds {kind} but must hold the {spec.split} {spec.kind} "
            "(files swapped or misnamed?)"
        )
    if kind == "labels" and array.size and int(array.max()) > 9:
        raise DataError(f"{where}: holds label {int(array.max())}; MNIST labels are 0..9")


def _check_content(spec: MnistFile, where: str, count: int, size: int, digest: str) -> None:
    """Compare item count, size and SHA-256 of the (canonical IDX) content with the table."""
    if count != spec.count:
        raise DataError(
            f"{where}: holds {count} {spec.kind}, expected {spec.count} for MNIST {spec.split}"
        )
    if size != spec.size:
        raise DataError(f"{where}: content is {size} bytes, expected {spec.size}")
    if digest != spec.sha256:
        raise DataError(
            f"{where}: SHA-256 of the content is {digest}, expected {spec.sha256} "
            "(corrupt, or not the original MNIST)"
        )


def _read_standard_file(path: Path, spec: MnistFile, verify: bool) -> np.ndarray:
    """Read one of the four files once: parse it, check its kind and, if asked, its checksum."""
    content = _read_content(path)
    array = _parse_idx(content, path)
    _check_array(array, spec, str(path))
    if verify:
        digest = hashlib.sha256(content).hexdigest()
        _check_content(spec, str(path), len(array), len(content), digest)
    return array


def _open_npz(path: Path) -> np.lib.npyio.NpzFile:
    """Open a Keras ``mnist.npz`` without ever unpickling anything."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if head != _ZIP_MAGIC:
        raise DataError(f"{path}: not an npz archive (a zip file); empty or another format")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a readable npz archive ({exc})") from exc


def _read_npz_array(
    archive: np.lib.npyio.NpzFile, path: Path, spec: MnistFile, verify: bool
) -> np.ndarray:
    """Read and check one array of an npz, hashing it as the equivalent IDX file would hash."""
    where = f"{path} [{spec.npz_key}]"
    if spec.npz_key not in archive.files:
        raise DataError(
            f"{where}: key missing; the archive has {sorted(archive.files)}, "
            "expected x_train, y_train, x_test, y_test"
        )
    try:
        array = archive[spec.npz_key]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{where}: refused or unreadable array ({exc})") from exc
    if array.dtype != np.uint8:
        raise DataError(f"{where}: dtype is {array.dtype}, expected uint8")
    item_shape = (_ROWS, _COLS) if spec.kind == "images" else ()
    if array.ndim == 0 or array.shape[1:] != item_shape:
        raise DataError(f"{where}: shape is {array.shape}, expected {('N', *item_shape)}")
    _check_array(array, spec, where)
    if verify:
        header = _idx_header(spec.kind, len(array))
        digest = hashlib.sha256(header)
        digest.update(np.ascontiguousarray(array).data)
        _check_content(spec, where, len(array), len(header) + array.nbytes, digest.hexdigest())
    return array


def _pair(images: np.ndarray, labels: np.ndarray, images_at: str, labels_at: str) -> Split:
    """Join images and labels of one split, refusing a count mismatch."""
    if len(images) != len(labels):
        raise DataError(
            f"{images_at} holds {len(images)} images but {labels_at} holds {len(labels)} labels; "
            "they must agree"
        )
    return Split(images, labels)


def _load_found(found: _Found, files: Sequence[MnistFile], verify: bool) -> MnistData:
    """Load both splits from what a folder holds (the IDX files when present, else the npz)."""
    arrays: dict[str, np.ndarray] = {}
    where: dict[str, str] = {}
    if found.idx:
        for spec in files:
            path = found.idx[spec.name]
            arrays[spec.npz_key] = _read_standard_file(path, spec, verify)
            where[spec.npz_key] = str(path)
    else:
        assert found.npz is not None
        with _open_npz(found.npz) as archive:
            for spec in files:
                arrays[spec.npz_key] = _read_npz_array(archive, found.npz, spec, verify)
                where[spec.npz_key] = f"{found.npz} [{spec.npz_key}]"
    train, test = (
        _pair(arrays[f"x_{s}"], arrays[f"y_{s}"], where[f"x_{s}"], where[f"y_{s}"])
        for s in ("train", "test")
    )
    return MnistData(train, test)


# --------------------------------------------------------------------------------------------
# Finding the data


def search_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """The places looked at, in order, each with how it was chosen (for messages and the CLI)."""
    places: list[tuple[str, Path]] = []
    if data_dir is not None:
        places.append(("data_dir argument", Path(data_dir).expanduser()))
    configured = os.environ.get(paths.ENV_DATA_DIR, "").strip()
    if configured:
        places.append((f"${paths.ENV_DATA_DIR}", Path(configured).expanduser()))
    places.append(("cache folder", paths.data_cache_dir()))
    unique: list[tuple[str, Path]] = []
    for how, folder in places:
        if all(folder != seen for _, seen in unique):
            unique.append((how, folder))
    return unique


def _scan(folder: Path, files: Sequence[MnistFile]) -> _Found | str:
    """What of MNIST a folder holds, or why it holds nothing; DataError if it cannot be listed."""
    try:
        if not folder.exists():
            return "does not exist"
        if not folder.is_dir():
            return "is not a folder"
        names = set(os.listdir(folder))
    except OSError as exc:
        raise DataError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from exc
    idx: dict[str, Path] = {}
    for spec in files:
        # The gzipped copy wins when both are present: it is what downloads write.
        for name in (spec.name, spec.raw_name):
            if name in names:
                idx[spec.name] = folder / name
                break
    npz = folder / NPZ_NAME if NPZ_NAME in names else None
    if not idx and npz is None:
        return f"holds none of the four MNIST files nor {NPZ_NAME}"
    return _Found(idx, npz)


def _find(how: str, folder: Path, files: Sequence[MnistFile]) -> _Found | str:
    """Like ``_scan``, but an incomplete set of IDX files is an error rather than a miss."""
    found = _scan(folder, files)
    if isinstance(found, _Found) and found.idx and len(found.idx) < len(files):
        missing = [spec.name for spec in files if spec.name not in found.idx]
        raise DataError(
            f"{how} {folder} is incomplete: {', '.join(missing)} missing (gzipped or not); "
            f"a partial set is never used. {_repair_hint(how)}"
        )
    return found


def _repair_hint(how: str) -> str:
    """What to do about a broken or partial copy, depending on whose folder it is."""
    if how == "cache folder":
        return "Run `python -m mnist_lib data fetch` to download a fresh copy into it."
    return "Replace the broken or missing files, or remove them to search the next place."


def locate_mnist(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The first folder in search order that holds MNIST, or None; DataError for a broken one."""
    for how, folder in search_dirs(data_dir):
        if isinstance(_find(how, folder, FILES), _Found):
            return folder
    return None


def _why_not_download(download: bool | None) -> str | None:
    """None when downloading is allowed, else the reason it is not."""
    if download is not None:
        return None if download else "downloads are off (download=False)"
    value = os.environ.get(ENV_OFFLINE, "")
    if value.strip().lower() in _OFFLINE_VALUES:
        return f"downloads are off (${ENV_OFFLINE}={value})"
    return None


def _not_found_message(misses: Iterable[str], files: Sequence[MnistFile], why: str) -> str:
    """The one message that says where we looked, what went wrong and how to provide the data."""
    names = ", ".join(spec.name for spec in files)
    why_first, *why_rest = why.splitlines()
    return "\n".join(
        [
            "MNIST was not found. Places looked at:",
            *(f"  - {miss}" for miss in misses),
            f"Not downloaded: {why_first}",
            *(f"  {line}" for line in why_rest),  # a download's per-mirror list, one level in
            "To provide the data, do one of:",
            f"  - set {paths.ENV_DATA_DIR} to a folder holding the four files ({names}; "
            f"gzipped or not) or a Keras {NPZ_NAME}",
            "  - pass data_dir=<that folder> to load_mnist()",
            f"  - allow downloads (unset {ENV_OFFLINE} or pass download=True), "
            "or run `python -m mnist_lib data fetch` on a machine with internet access",
        ]
    )


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
    verify: bool = True,
    files: Sequence[MnistFile] = FILES,
) -> MnistData:
    """Load MNIST from the first place that holds it, downloading it into the cache if allowed.

    ``download=None`` downloads unless ``$MNIST_OFFLINE`` is set. ``verify=False`` skips the
    checksum and item-count table but keeps every structural check. ``files`` replaces the table
    of expected counts and checksums (for tests with small synthetic files).
    """
    misses: list[str] = []
    for how, folder in search_dirs(data_dir):
        found = _find(how, folder, files)
        if isinstance(found, _Found):
            try:
                return _load_found(found, files, verify)
            except DataError as exc:
                raise DataError(f"{exc}\n{_repair_hint(how)}") from exc
        misses.append(f"{how} {folder}: {found}")
    why_not = _why_not_download(download)
    if why_not is not None:
        raise DataNotFoundError(_not_found_message(misses, files, why_not))
    try:
        dest = download_mnist(mirrors=mirrors, timeout=timeout, files=files)
    except DownloadError as exc:
        raise DataNotFoundError(
            _not_found_message(misses, files, f"download failed: {exc}")
        ) from exc
    found = _find("cache folder", dest, files)
    assert isinstance(found, _Found), found
    return _load_found(found, files, verify)


def verify_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, files: Sequence[MnistFile] = FILES
) -> list[FileCheck]:
    """Check every file of the first place that holds any MNIST file, one verdict per file."""
    misses: list[str] = []
    for how, folder in search_dirs(data_dir):
        found = _scan(folder, files)
        if isinstance(found, _Found):
            return _verify_found(found, files)
        misses.append(f"{how} {folder}: {found}")
    raise DataNotFoundError(_not_found_message(misses, files, "verify_mnist() does not download"))


def _verify_found(found: _Found, files: Sequence[MnistFile]) -> list[FileCheck]:
    """Verdicts for the IDX files of a folder, or for the four arrays of its npz."""
    checks: list[FileCheck] = []
    if found.idx:
        for spec in files:
            path = found.idx.get(spec.name)
            if path is None:
                checks.append(FileCheck(spec.name, None, False, "missing (gzipped or not)"))
                continue
            try:
                _read_standard_file(path, spec, verify=True)
            except DataError as exc:
                checks.append(FileCheck(path.name, path, False, str(exc)))
            else:
                checks.append(FileCheck(path.name, path, True, ""))
        return checks
    assert found.npz is not None
    npz = found.npz
    try:
        archive = _open_npz(npz)
    except DataError as exc:
        return [FileCheck(f"{NPZ_NAME}:{spec.npz_key}", npz, False, str(exc)) for spec in files]
    with archive:
        for spec in files:
            name = f"{NPZ_NAME}:{spec.npz_key}"
            try:
                _read_npz_array(archive, npz, spec, verify=True)
            except DataError as exc:
                checks.append(FileCheck(name, npz, False, str(exc)))
            else:
                checks.append(FileCheck(name, npz, True, ""))
    return checks


# --------------------------------------------------------------------------------------------
# Downloading


def download_mnist(
    dest_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
    deadline: float = DOWNLOAD_DEADLINE,
    files: Sequence[MnistFile] = FILES,
) -> Path:
    """Download and verify the four files into ``dest_dir`` (default: the cache folder).

    Each file streams into a hidden ``.part`` file in the destination, is decompressed and checked
    against the table, and is renamed into place only once all four passed, so a failure leaves
    no partial set and no file the loader would read. ``timeout`` bounds every network wait,
    ``deadline`` the whole of one file. Raises DownloadError listing each mirror's failure, or,
    without trying another mirror, saying that the destination cannot be written (disk full,
    read-only folder): another mirror would fail the same way.
    """
    dest = Path(dest_dir) if dest_dir is not None else paths.data_cache_dir()
    order = list(MIRRORS if mirrors is None else mirrors)
    if not order:
        raise DownloadError("no mirrors to download from")
    fetched: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for spec in files:
            fetched.append((_fetch(spec, order, dest, timeout, deadline), dest / spec.name))
        for part, final in fetched:
            os.replace(part, final)
            placed.append(final)
    except (OSError, _LocalWriteError) as exc:
        error = exc.error if isinstance(exc, _LocalWriteError) else exc
        # A set cut short in the middle of the renames is no set: take back what was placed.
        for final in placed:
            final.unlink(missing_ok=True)
        raise DownloadError(_cannot_write_message(dest, error, dest_dir is None)) from error
    finally:
        for part, _ in fetched:
            part.unlink(missing_ok=True)
    return dest


class _LocalWriteError(Exception):
    """Writing into the destination folder failed: this machine's fault, not the mirror's."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def _cannot_write_message(dest: Path, error: OSError, is_cache: bool) -> str:
    """What went wrong writing into ``dest`` and what to do about it, by the kind of failure."""
    elsewhere = (
        f"set {paths.ENV_CACHE_DIR} to another folder"
        if is_cache
        else "download into another folder"
    )
    if error.errno in _FULL_ERRNOS:
        fix = f"free some space, or {elsewhere}"
    elif error.errno in _READ_ONLY_ERRNOS:
        fix = f"make it writable, or {elsewhere}"
    else:
        fix = elsewhere
    return f"cannot write into {dest} ({error.strerror or error}): {fix}"


def _fetch(spec: MnistFile, order: list[str], dest: Path, timeout: float, deadline: float) -> Path:
    """Fetch one file from the first mirror that serves it intact; returns the verified part file.

    The mirror that worked moves to the front of ``order`` so the next files try it first.
    """
    failures: list[str] = []
    for mirror in list(order):
        url = mirror + spec.name if mirror.endswith("/") else f"{mirror}/{spec.name}"
        handle, name = tempfile.mkstemp(dir=dest, prefix=f".{spec.name}.", suffix=".part")
        part = Path(name)
        try:
            with _local_file(handle) as out:
                _stream(url, out, timeout, deadline)
            _verify_download(part, spec)
        except _MirrorError as exc:
            part.unlink(missing_ok=True)
            failures.append(f"{url}: {exc}")
            continue
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        order.remove(mirror)
        order.insert(0, mirror)
        return part
    raise DownloadError(
        f"could not download {spec.name} from any mirror:\n"
        + "\n".join(f"  - {failure}" for failure in failures)
    )


class _LocalFile:
    """The part file being written; any failure to write or close it is a ``_LocalWriteError``."""

    def __init__(self, handle: int) -> None:
        self._stream = os.fdopen(handle, "wb")

    def write(self, chunk: bytes) -> None:
        """Write all of ``chunk`` to the disk now, so a full disk shows here and not later."""
        try:
            self._stream.write(chunk)
            self._stream.flush()
        except OSError as exc:
            raise _LocalWriteError(exc) from exc

    def close(self) -> None:
        try:
            self._stream.close()
        except OSError as exc:
            raise _LocalWriteError(exc) from exc


@contextlib.contextmanager
def _local_file(handle: int) -> Iterator[_LocalFile]:
    """Open the part file ``handle`` for writing and close it however the block ends."""
    out = _LocalFile(handle)
    try:
        yield out
    finally:
        out.close()


def _stream(url: str, out: _LocalFile, timeout: float, deadline: float) -> None:
    """Stream one URL into ``out``, bounded by ``timeout`` per wait and ``deadline`` in all.

    Network failures are ``_MirrorError`` (try the next mirror); a failed write into ``out`` is
    ``_LocalWriteError`` and passes through untouched.
    """
    request = urllib.request.Request(url, headers={"User-Agent": f"mnist-lib/{__version__}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.headers.get_content_type() == "text/html":
                raise _MirrorError("served an HTML page (Content-Type text/html), not the file")
            declared = response.headers.get("Content-Length")
            received = 0
            # read1 returns after one socket read, so the deadline is checked while bytes trickle.
            while chunk := response.read1(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if time.monotonic() - started > deadline:
                    raise _MirrorError(f"took longer than the {deadline:g} s deadline")
    except urllib.error.HTTPError as exc:
        raise _MirrorError(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _MirrorError(f"cannot connect ({exc.reason})") from exc
    except TimeoutError as exc:
        raise _MirrorError(f"no data for {timeout:g} s (timed out)") from exc
    except ConnectionResetError as exc:
        raise _MirrorError("the connection was reset by the server mid-transfer") from exc
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise _MirrorError(f"transfer failed ({type(exc).__name__}: {exc})") from exc
    if declared is not None and declared.isdigit() and received != int(declared):
        raise _MirrorError(f"truncated body: got {received} of {declared} bytes")


def _verify_download(part: Path, spec: MnistFile) -> None:
    """Decompress a downloaded file and compare its content with the table."""
    with part.open("rb") as stream:
        head = stream.read(256)
    if head[:2] != _GZIP_MAGIC:
        if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
            raise _MirrorError("served an HTML page, not the gzip file")
        raise _MirrorError(f"not a gzip file (starts with {head[:16]!r})")
    digest = hashlib.sha256()
    size = 0
    try:
        with gzip.open(part, "rb") as content:
            while block := content.read(1 << 20):
                digest.update(block)
                size += len(block)
    except EOFError as exc:
        raise _MirrorError("the gzip stream is truncated") from exc
    except (OSError, zlib.error) as exc:
        raise _MirrorError(f"the gzip data is corrupt ({exc})") from exc
    if size != spec.size:
        raise _MirrorError(f"decompressed content is {size} bytes, expected {spec.size}")
    if digest.hexdigest() != spec.sha256:
        raise _MirrorError(
            f"checksum mismatch: SHA-256 {digest.hexdigest()}, expected {spec.sha256}"
        )


# --------------------------------------------------------------------------------------------
# Summaries of the data


_NUM_CLASSES = 10


class PixelStats(NamedTuple):
    """Summary of all pixel values of a batch of images (raw 0..255 or scaled 0..1)."""

    minimum: float
    maximum: float
    mean: float
    std: float
    zero_share: float
    """Fraction of the pixels that are exactly 0 (blank background)."""
    count: int
    """Number of pixels summarized."""


def _class_labels(labels: object, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D integer array of digits 0..9, or an InputError saying what is wrong."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise InputError(
            f"{name} must be a 1-D array of integer digits 0..9; "
            f"got shape {array.shape}, dtype {array.dtype}"
        )
    if array.size and (array.min() < 0 or array.max() >= _NUM_CLASSES):
        raise InputError(f"{name} must be digits 0..9; got values {array.min()}..{array.max()}")
    return array


def pixel_stats(images: np.ndarray) -> PixelStats:
    """Range, mean, standard deviation and share of exact zeros of every pixel in ``images``.

    Computed in float64 whatever the dtype, so the mean of 47 million uint8 pixels is exact to
    far more digits than any printout needs.
    """
    array = np.asarray(images)
    if array.size == 0 or array.dtype.kind not in "iuf":
        raise InputError(
            f"images must be a non-empty numeric array; got shape {array.shape}, "
            f"dtype {array.dtype}"
        )
    if array.dtype == np.uint8:
        # One pass over a 256-bin histogram: fast, and no float copy of the whole data set.
        counts = np.bincount(array.ravel(), minlength=256).astype(np.float64)
        values = np.arange(256, dtype=np.float64)
        present = np.flatnonzero(counts)
        mean = float(counts @ values / array.size)
        std = math.sqrt(float(counts @ (values - mean) ** 2) / array.size)
        low, high, zeros = float(present[0]), float(present[-1]), int(counts[0])
    else:
        mean = float(np.mean(array, dtype=np.float64))
        std = float(np.std(array, dtype=np.float64))
        low, high = float(array.min()), float(array.max())
        zeros = int(np.count_nonzero(array == 0))
    return PixelStats(low, high, mean, std, zeros / array.size, int(array.size))


def class_counts(labels: np.ndarray) -> np.ndarray:
    """How many examples of each digit 0..9 ``labels`` holds, as an int64 array of length 10."""
    return np.bincount(_class_labels(labels), minlength=_NUM_CLASSES).astype(np.int64)


def format_class_counts(label_sets: Mapping[str, np.ndarray]) -> str:
    """A text table of the examples per digit in each named set, as counts and shares.

    ``label_sets`` maps a column heading to labels, e.g. ``{"training": y_train, "test": y_test}``.
    The last row gives each set's total.
    """
    if not label_sets:
        raise InputError("label_sets is empty: give at least one named set of labels")
    columns = []
    for name, labels in label_sets.items():
        counts = class_counts(labels)
        total = int(counts.sum())
        shares = counts / total if total else np.zeros(_NUM_CLASSES)
        cells = [f"{c:,} {s:6.1%}" for c, s in zip(counts, shares, strict=True)]
        cells.append(f"{total:,} {1:6.0%}")
        width = max(len(name), *(len(cell) for cell in cells))
        columns.append([name.rjust(width), *(cell.rjust(width) for cell in cells)])
    row_names = ["digit", *(str(d) for d in range(_NUM_CLASSES)), "total"]
    lines = []
    for i, row_name in enumerate(row_names):
        lines.append("   ".join([row_name.ljust(5), *(column[i] for column in columns)]).rstrip())
    return "\n".join(lines)


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The average image of each digit: a float64 array (10, 28, 28) in the images' units.

    Row ``d`` is the pixel-by-pixel mean of every image labelled ``d``. Raises InputError when a
    digit has no image, since its mean is undefined.
    """
    array = np.asarray(images)
    if array.ndim != 3 or array.shape[1:] != (_ROWS, _COLS) or array.dtype.kind not in "iuf":
        raise InputError(
            f"images must be numbers of shape (N, 28, 28); got {array.shape}, dtype {array.dtype}"
        )
    digits = _class_labels(labels)
    if len(digits) != len(array):
        raise InputError(f"{len(array)} images but {len(digits)} labels; they must agree")
    counts = np.bincount(digits, minlength=_NUM_CLASSES)
    if not counts.all():
        missing = [d for d in range(_NUM_CLASSES) if counts[d] == 0]
        raise InputError(f"no image of digit(s) {missing}: their mean image is undefined")
    return np.stack(
        [array[digits == d].mean(axis=0, dtype=np.float64) for d in range(_NUM_CLASSES)]
    )
