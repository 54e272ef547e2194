"""Every fault of every one of the four MNIST files, where a reader keeps them and in the cache.

Each fault must give a DataError that names the file and the problem and says what to do; the
file must be left exactly as it was (the loader never repairs or deletes a user's file); and once
the fault is gone the next load must succeed. The last tests make a folder or file really
unreadable, for a child process running as another user, since root reads through any mode.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from mnist_fixtures import (
    drop_privileges_to,
    idx_bytes,
    load_as_another_user,
    spec_for,
    synthetic_arrays,
    world_traversable_folder,
    write_idx_folder,
)
from test_data import isolated_env  # noqa: F401  (autouse: no data, offline, empty cache)

from mnist_lib.data import FILES, MnistFile, load_mnist
from mnist_lib.errors import DataError
from mnist_lib.paths import data_cache_dir

ARRAYS = synthetic_arrays()
TABLE = spec_for(ARRAYS)

# What the loader adds to a file's problem, by whose folder it is.
REPAIR_HINTS = {
    "data_dir": "Replace the broken or missing files, or remove them to search the next place.",
    "cache": "Run `python -m mnist_lib data fetch` to download a fresh copy into it.",
}


def _gz(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


def _flip_bit(raw: bytes, index: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]


def _other_kind(spec: MnistFile) -> np.ndarray:
    """The array of the same split but the other kind: labels for images and the reverse."""
    return ARRAYS[f"{'y' if spec.kind == 'images' else 'x'}_{spec.split}"]


# A fault: given the file's spec, the name to write, the bytes to write under it, the table of
# counts and checksums to load with, and a pattern the message must contain.
Fault = tuple[str, bytes, tuple[MnistFile, ...], str]


def _empty(spec: MnistFile) -> Fault:
    return spec.name, b"", TABLE, r"the file is empty \(0 bytes\)"


def _truncated(spec: MnistFile) -> Fault:
    whole = _gz(idx_bytes(ARRAYS[spec.npz_key]))
    return spec.name, whole[: len(whole) // 2], TABLE, "the gzip stream is truncated"


def _bit_flipped_in_gzip(spec: MnistFile) -> Fault:
    whole = _gz(idx_bytes(ARRAYS[spec.npz_key]))
    middle = 10 + (len(whole) - 18) // 2  # inside the deflate data, between header and trailer
    return spec.name, _flip_bit(whole, middle), TABLE, r"the gzip data is corrupt \(CRC check"


def _bit_flipped_in_idx(spec: MnistFile) -> Fault:
    # The last pixel or label changes by one: the format is intact, only the checksum can tell.
    raw = idx_bytes(ARRAYS[spec.npz_key])
    return (
        spec.raw_name,
        _flip_bit(raw, len(raw) - 1),
        TABLE,
        r"SHA-256 of the content is [0-9a-f]{64}, expected",
    )


def _wrong_magic(spec: MnistFile) -> Fault:
    raw = b"\0\0\x08\x05" + idx_bytes(ARRAYS[spec.npz_key])[4:]
    return spec.name, _gz(raw), TABLE, r"not an MNIST IDX file \(magic number 0x00000805"


def _wrong_kind(spec: MnistFile) -> Fault:
    other = "labels" if spec.kind == "images" else "images"
    problem = f"holds {other} but must hold the {spec.split} {spec.kind} "
    return spec.name, _gz(idx_bytes(_other_kind(spec))), TABLE, problem + r"\(files swapped"


def _count_mismatch(spec: MnistFile) -> Fault:
    # One item fewer, with a table that matches, so that only the pairing can notice.
    shorter = dict(ARRAYS, **{spec.npz_key: ARRAYS[spec.npz_key][:-1]})
    table = spec_for(shorter)
    return spec.name, _gz(idx_bytes(shorter[spec.npz_key])), table, "they must agree"


FAULTS: dict[str, Callable[[MnistFile], Fault]] = {
    "empty": _empty,
    "truncated": _truncated,
    "bit flipped in gzip data": _bit_flipped_in_gzip,
    "bit flipped in uncompressed IDX": _bit_flipped_in_idx,
    "wrong magic number": _wrong_magic,
    "wrong kind": _wrong_kind,
    "count differs from its partner": _count_mismatch,
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("where", ["data_dir", "cache"])
@pytest.mark.parametrize("spec", FILES, ids=lambda spec: spec.name)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_of_each_file_is_named_left_alone_and_recoverable(
    fault: str, spec: MnistFile, where: str, tmp_path: Path
) -> None:
    folder = tmp_path / "mnist" if where == "data_dir" else data_cache_dir()
    write_idx_folder(folder, ARRAYS)
    name, content, table, problem = FAULTS[fault](spec)
    (folder / spec.name).unlink()
    (folder / name).write_bytes(content)
    before = snapshot(folder)

    with pytest.raises(DataError) as info:
        load_mnist(folder if where == "data_dir" else None, files=table)
    message = str(info.value)
    assert str(folder / name) in message
    assert len(re.findall(problem, message)) == 1, message
    assert message.endswith(REPAIR_HINTS[where])
    assert snapshot(folder) == before  # nothing repaired, renamed or deleted behind the user

    # The fault gone, the next load succeeds.
    (folder / name).unlink()
    (folder / spec.name).write_bytes(_gz(idx_bytes(ARRAYS[spec.npz_key])))
    loaded = load_mnist(folder if where == "data_dir" else None, files=TABLE)
    np.testing.assert_array_equal(loaded.train.images, ARRAYS["x_train"])
    np.testing.assert_array_equal(loaded.test.labels, ARRAYS["y_test"])


# ------------------------------------------------------------------------------------------
# A folder or file another user cannot read, for real


@pytest.fixture()
def other_user() -> tuple[int, int]:
    user = drop_privileges_to()
    if user is None:
        pytest.skip("running as root and there is no user 'nobody' to be stopped by file modes")
    return user


@pytest.mark.parametrize("unreadable", ["folder", "file"])
def test_really_unreadable_data_is_named_and_recoverable(
    unreadable: str, other_user: tuple[int, int]
) -> None:
    with world_traversable_folder() as base:
        folder = write_idx_folder(base / "mnist", ARRAYS)
        target = folder if unreadable == "folder" else folder / FILES[2].name
        target.chmod(0)
        result = load_as_another_user(folder, other_user, base)
        assert result["error"] == "DataError"
        expected = "cannot read the folder" if unreadable == "folder" else "cannot be read"
        assert result["message"].startswith(f"{target}: {expected} (Permission denied)")

        target.chmod(0o755 if unreadable == "folder" else 0o644)
        assert load_as_another_user(folder, other_user, base) == {
            "error": None,
            "message": f"{len(ARRAYS['x_train'])} training images",
        }
