"""Tests of finding, parsing and verifying MNIST (mnist_lib.data), without any network."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import numpy as np
import pytest
from mnist_fixtures import (
    REAL_MNIST,
    idx_bytes,
    spec_for,
    synthetic_arrays,
    write_idx_folder,
    write_npz,
)

from mnist_lib import data
from mnist_lib.data import FILES, NPZ_NAME, load_mnist, locate_mnist, read_idx, verify_mnist
from mnist_lib.errors import DataError, DataNotFoundError

Arrays = dict[str, np.ndarray]

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache at an empty tmp folder and clear the data settings; returns the cache."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("MNIST_OFFLINE", "1")
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    return tmp_path / "cache-root" / "data"


@pytest.fixture()
def arrays() -> Arrays:
    return synthetic_arrays()


def assert_same(loaded: data.MnistData, arrays: Arrays) -> None:
    (x_train, y_train), (x_test, y_test) = loaded
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test")):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8
    np.testing.assert_array_equal(y_test, arrays["y_test"])


# ------------------------------------------------------------------------------------------
# read_idx


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path: Path, gz: bool) -> None:
    images = synthetic_arrays()["x_train"]
    labels = synthetic_arrays()["y_train"]
    for name, array in (("img", images), ("lab", labels)):
        content = idx_bytes(array)
        path = tmp_path / name
        path.write_bytes(gzip.compress(content) if gz else content)
        got = read_idx(path)
        assert got.dtype == np.uint8
        assert got.shape == array.shape
        np.testing.assert_array_equal(got, array)
        got[0] = 0  # an ordinary writable array, not a view of immutable bytes


def _flip_byte(raw: bytes, index: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0xFF]) + raw[index + 1 :]


_IMAGES = idx_bytes(synthetic_arrays()["x_train"])
_IMAGES_GZ = gzip.compress(_IMAGES)

BAD_FILES = {
    "empty": (b"", "empty"),
    "truncated gz": (_IMAGES_GZ[: len(_IMAGES_GZ) // 2], "truncated"),
    "gz crc flipped": (_flip_byte(_IMAGES_GZ, len(_IMAGES_GZ) - 6), "corrupt"),
    "gz data flipped": (_flip_byte(_IMAGES_GZ, len(_IMAGES_GZ) // 2), "corrupt"),
    "truncated idx": (_IMAGES[:-100], "truncated"),
    "trailing bytes": (_IMAGES + b"\0", "extra bytes"),
    "wrong magic": (b"\0\0\x08\x02" + _IMAGES[4:], "magic number"),
    "text file": (b"this is not an IDX file at all\n", "magic number"),
    "short header": (b"\0\0\x08\x01\0\0", "too short"),
    "images 27x27": (idx_bytes(np.zeros((2, 27, 27), np.uint8)), "27x27"),
    "header count too high": (b"\0\0\x08\x01\0\0\0\x05" + b"\1\2\3", "truncated"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_read_idx_bad_files_raise_data_error_naming_file(tmp_path: Path, case: str) -> None:
    raw, problem = BAD_FILES[case]
    path = tmp_path / "some-file-idx3-ubyte.gz"
    path.write_bytes(raw)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_read_idx_chains_the_underlying_error(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(BAD_FILES["gz crc flipped"][0])
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert isinstance(info.value.__cause__, OSError)  # gzip.BadGzipFile, chained with `from`


def test_read_idx_missing_file_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(tmp_path / "nope.gz")


# ------------------------------------------------------------------------------------------
# load_mnist on synthetic folders


@pytest.mark.parametrize("gz", [True, False])
def test_load_idx_folder_with_injected_checksums(tmp_path: Path, arrays: Arrays, gz: bool) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays, gz=gz)
    assert_same(load_mnist(folder, files=spec_for(arrays)), arrays)


def test_load_mixed_gz_and_plain_folder(tmp_path: Path, arrays: Arrays) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    spec = FILES[0]
    (folder / spec.name).unlink()
    (folder / spec.raw_name).write_bytes(idx_bytes(arrays["x_train"]))
    assert_same(load_mnist(folder, files=spec_for(arrays)), arrays)


def test_load_npz_folder_with_injected_checksums(tmp_path: Path, arrays: Arrays) -> None:
    write_npz(tmp_path / "d", arrays)
    assert_same(load_mnist(tmp_path / "d", files=spec_for(arrays)), arrays)


def test_default_verification_uses_the_real_table(tmp_path: Path, arrays: Arrays) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    with pytest.raises(DataError, match="expected 60000"):
        load_mnist(folder)
    assert_same(load_mnist(folder, verify=False), arrays)


def test_checksum_mismatch_is_data_error(tmp_path: Path, arrays: Arrays) -> None:
    table = spec_for(arrays)
    tampered = dict(arrays, x_test=arrays["x_test"].copy())
    tampered["x_test"][0, 0, 0] ^= 1
    write_idx_folder(tmp_path / "idx", tampered)
    write_npz(tmp_path / "npz", tampered)
    for folder, where in ((tmp_path / "idx", "t10k-images"), (tmp_path / "npz", "x_test")):
        with pytest.raises(DataError, match="SHA-256") as info:
            load_mnist(folder, files=table)
        assert where in str(info.value)


def test_labels_file_where_images_belong(tmp_path: Path, arrays: Arrays) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arrays["y_train"])))
    with pytest.raises(DataError, match="holds labels but must hold the train images") as info:
        load_mnist(folder, verify=False)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_image_and_label_counts_must_agree(tmp_path: Path, arrays: Arrays) -> None:
    write_idx_folder(tmp_path / "d", dict(arrays, y_test=arrays["y_test"][:-1]))
    with pytest.raises(DataError, match=r"5 images but .* 4 labels") as info:
        load_mnist(tmp_path / "d", verify=False)
    assert "t10k-labels" in str(info.value)


def test_corrupt_file_in_folder_is_not_skipped(
    tmp_path: Path, arrays: Arrays, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken copy in an earlier place is an error, even when a later place is fine."""
    first = write_idx_folder(tmp_path / "first", arrays)
    write_idx_folder(tmp_path / "second", arrays)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "second"))
    path = first / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(first, verify=False)
    assert str(path) in str(info.value)


def test_damaged_cache_copy_suggests_fetching_again(isolated_env: Path, arrays: Arrays) -> None:
    write_idx_folder(isolated_env, arrays)
    (isolated_env / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(DataError, match="python -m mnist_lib data fetch") as info:
        load_mnist(verify=False)
    assert "train-images-idx3-ubyte.gz: the gzip" in str(info.value)


def test_incomplete_folder_names_missing_file(tmp_path: Path, arrays: Arrays) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="incomplete") as info:
        load_mnist(folder, verify=False)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    assert "t10k-labels" not in str(info.value)
    with pytest.raises(DataError, match="incomplete"):
        locate_mnist(folder)


def test_unreadable_folder_simulated(
    tmp_path: Path, arrays: Arrays, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing the folder is refused (test_data_faults makes it happen for real)."""
    folder = write_idx_folder(tmp_path / "d", arrays)
    real_listdir = os.listdir

    def refuse(path: str | os.PathLike[str] = ".") -> list[str]:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", refuse)
    with pytest.raises(DataError, match=r"cannot read the folder.*Permission denied") as info:
        load_mnist(folder, verify=False)
    assert str(folder) in str(info.value)


def test_unreadable_file_simulated(
    tmp_path: Path, arrays: Arrays, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    target = folder / "t10k-images-idx3-ubyte.gz"
    real_read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataError, match=r"cannot be read.*Permission denied") as info:
        load_mnist(folder, verify=False)
    assert str(target) in str(info.value)


# ------------------------------------------------------------------------------------------
# npz


def _npz_case(arrays: Arrays, case: str) -> dict[str, object]:
    if case == "missing key":
        return {k: v for k, v in arrays.items() if k != "y_test"}
    if case == "float images":
        return dict(arrays, x_train=arrays["x_train"] / 255.0)
    if case == "flat images":
        return dict(arrays, x_train=arrays["x_train"].reshape(-1, 784))
    if case == "2-d labels":
        return dict(arrays, y_train=arrays["y_train"][:, None])
    if case == "count mismatch":
        return dict(arrays, y_train=arrays["y_train"][:-2])
    if case == "label out of range":
        return dict(arrays, y_test=arrays["y_test"] + 10)
    if case == "pickled object array":
        return dict(arrays, x_train=np.array([{"not": "data"}, None], dtype=object))
    raise AssertionError(case)


NPZ_PROBLEMS = {
    "missing key": "y_test",
    "float images": "dtype is float64, expected uint8",
    "flat images": r"shape is \(12, 784\)",
    "2-d labels": r"shape is \(12, 1\)",
    "count mismatch": "12 images but .* 10 labels",
    "label out of range": "MNIST labels are 0..9",
    "pickled object array": "allow_pickle",
}


@pytest.mark.parametrize("case", sorted(NPZ_PROBLEMS))
def test_bad_npz_raises_data_error(tmp_path: Path, arrays: Arrays, case: str) -> None:
    path = write_npz(tmp_path / "d", _npz_case(arrays, case))
    with pytest.raises(DataError, match=NPZ_PROBLEMS[case]) as info:
        load_mnist(tmp_path / "d", verify=False)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not an npz archive"),
        (b"just some text", "not an npz archive"),
        (b"PK\x03\x04 broken zip", "not a readable npz archive"),
    ],
)
def test_npz_that_is_not_an_archive(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / NPZ_NAME).write_bytes(content)
    with pytest.raises(DataError, match=problem):
        load_mnist(tmp_path, verify=False)


def test_npz_with_a_corrupt_member(tmp_path: Path, arrays: Arrays) -> None:
    path = write_npz(tmp_path, arrays)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 400])  # cuts into the last member and the zip directory
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path, verify=False)
    assert str(path) in str(info.value)


# ------------------------------------------------------------------------------------------
# Search order and the not-found message


def test_search_order_explicit_then_env_then_cache(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = synthetic_arrays(n_train=3, seed=1)
    from_env = synthetic_arrays(n_train=4, seed=2)
    cached = synthetic_arrays(n_train=5, seed=3)
    write_idx_folder(tmp_path / "explicit", explicit)
    write_npz(tmp_path / "env", from_env)
    write_idx_folder(isolated_env, cached, gz=False)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "env"))

    assert [how for how, _ in data.search_dirs(tmp_path / "explicit")] == [
        "data_dir argument",
        "$MNIST_DATA_DIR",
        "cache folder",
    ]
    assert len(load_mnist(tmp_path / "explicit", verify=False).train.labels) == 3
    assert locate_mnist(tmp_path / "explicit") == tmp_path / "explicit"
    assert len(load_mnist(verify=False).train.labels) == 4
    assert locate_mnist() == tmp_path / "env"
    monkeypatch.delenv("MNIST_DATA_DIR")
    assert len(load_mnist(verify=False).train.labels) == 5
    assert locate_mnist() == isolated_env


def test_folder_without_data_falls_through(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, arrays: Arrays
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("unrelated")
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "missing"))
    write_idx_folder(isolated_env, arrays)
    assert_same(load_mnist(tmp_path / "empty", verify=False), arrays)


def test_not_found_names_every_place_and_the_remedies(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "a-file"))
    assert locate_mnist(tmp_path / "empty") is None
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path / "empty", download=False)
    message = str(info.value)
    assert f"data_dir argument {tmp_path / 'empty'}: holds none" in message
    assert f"$MNIST_DATA_DIR {tmp_path / 'a-file'}: is not a folder" in message
    assert f"cache folder {isolated_env}: does not exist" in message
    assert "download=False" in message
    assert "set MNIST_DATA_DIR" in message
    assert "pass data_dir=" in message
    assert "python -m mnist_lib data fetch" in message


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_offline_env_turns_downloads_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MNIST_OFFLINE", value)

    def no_download(*args: object, **kwargs: object) -> Path:
        raise AssertionError("must not download while offline")

    monkeypatch.setattr(data, "download_mnist", no_download)
    with pytest.raises(DataNotFoundError, match=f"MNIST_OFFLINE={value}"):
        load_mnist()


# ------------------------------------------------------------------------------------------
# verify_mnist


def test_verify_reports_each_file(tmp_path: Path, arrays: Arrays) -> None:
    folder = write_idx_folder(tmp_path / "d", arrays)
    table = spec_for(arrays)
    checks = verify_mnist(folder, files=table)
    assert [c.ok for c in checks] == [True] * 4
    assert [c.name for c in checks] == [spec.name for spec in FILES]

    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>an error page</html>")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    checks = verify_mnist(folder, files=table)
    assert [c.ok for c in checks] == [True, False, True, False]
    assert "magic number" in checks[1].problem
    assert checks[3].path is None
    assert "missing" in checks[3].problem


def test_verify_npz(tmp_path: Path, arrays: Arrays) -> None:
    write_npz(tmp_path, dict(arrays, y_test=arrays["y_test"].astype(np.int64)))
    checks = verify_mnist(tmp_path, files=spec_for(arrays))
    assert [c.name for c in checks] == [f"mnist.npz:{spec.npz_key}" for spec in FILES]
    assert [c.ok for c in checks] == [True, True, True, False]
    assert "int64" in checks[3].problem


def test_verify_without_data_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="holds none"):
        verify_mnist(tmp_path)


# ------------------------------------------------------------------------------------------
# The real data


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="real MNIST not available")
def test_real_mnist_loads_and_verifies() -> None:
    started = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_mnist(REAL_MNIST, download=False)
    elapsed = time.perf_counter() - started
    assert x_train.shape == (60000, 28, 28)
    assert x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert y_train[0] == 5
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.max() == 255
    assert elapsed < 5, f"loading took {elapsed:.1f} s"
    assert all(check.ok for check in verify_mnist(REAL_MNIST))


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="real MNIST not available")
def test_real_npz_equivalent_verifies_with_the_same_table(tmp_path: Path) -> None:
    """An npz is hashed as the equivalent IDX files, so the one real table covers both."""
    loaded = load_mnist(REAL_MNIST, download=False, verify=False)
    write_npz(
        tmp_path,
        {
            "x_train": loaded.train.images,
            "y_train": loaded.train.labels,
            "x_test": loaded.test.images,
            "y_test": loaded.test.labels,
        },
    )
    try:
        again = load_mnist(tmp_path, download=False)
    finally:
        (tmp_path / NPZ_NAME).unlink()  # keep no copy of MNIST in pytest's kept tmp folders
    np.testing.assert_array_equal(again.train.images, loaded.train.images)
    np.testing.assert_array_equal(again.test.labels, loaded.test.labels)
