"""Tests of downloading MNIST against a real HTTP server on 127.0.0.1, fault by fault."""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from mnist_fixtures import (
    HTML_PAGE,
    REAL_MNIST,
    DiskFault,
    LoopbackServer,
    Route,
    full_disk,
    gz_files,
    idx_bytes,
    loopback_server,
    read_only_folder,
    refused_url,
    send_bytes,
    send_half,
    send_hang,
    send_status,
    send_trickle,
    spec_for,
    synthetic_arrays,
)

from mnist_lib.data import FILES, MnistFile, download_mnist, load_mnist, verify_mnist
from mnist_lib.errors import DataNotFoundError, DownloadError

TIMEOUT = 0.5
DEADLINE = 0.5


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache under tmp_path, no data folder, downloads allowed; returns the data cache."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.delenv("MNIST_OFFLINE", raising=False)
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache-root"))
    return tmp_path / "cache-root" / "data"


@pytest.fixture()
def server() -> Iterator[LoopbackServer]:
    with loopback_server() as running:
        yield running


ARRAYS = synthetic_arrays()
TABLE = spec_for(ARRAYS)
GOOD = gz_files(ARRAYS)
OTHER = gz_files(synthetic_arrays(seed=99))  # valid files, wrong checksums


def _flip_last_crc_byte(body: bytes) -> bytes:
    return body[:-5] + bytes([body[-5] ^ 0xFF]) + body[-4:]


# Each fault: how one file is served wrongly, and a word the error message must contain.
FAULTS: dict[str, tuple[Callable[[str], Route] | None, str]] = {
    "connection refused": (None, "cannot connect"),
    "404": (lambda name: send_status(404), "HTTP 404"),
    "500": (lambda name: send_status(500), "HTTP 500"),
    "truncated body": (lambda name: send_half(GOOD[name]), "truncated"),
    "dropped without length": (
        lambda name: send_half(GOOD[name], announce_length=False),
        "truncated",
    ),
    "connection reset": (lambda name: send_half(GOOD[name], end="reset"), "reset"),
    "html error page": (lambda name: send_bytes(HTML_PAGE, "text/html"), "HTML"),
    "html without content type": (lambda name: send_bytes(HTML_PAGE), "HTML"),
    "uncompressed body": (lambda name: send_bytes(idx_bytes(ARRAYS["x_train"])), "not a gzip"),
    "corrupt gzip": (lambda name: send_bytes(_flip_last_crc_byte(GOOD[name])), "corrupt"),
    "checksum mismatch": (lambda name: send_bytes(OTHER[name]), "checksum mismatch"),
    "hang": (lambda name: send_hang(), "timed out"),
    "trickle": (lambda name: send_trickle(GOOD[name]), "deadline"),
}


def faulty_mirror(server: LoopbackServer, fault: str, prefix: str = "bad") -> str:
    """A mirror URL that shows ``fault`` for every file."""
    make_route, _ = FAULTS[fault]
    if make_route is None:
        return refused_url()
    for name in GOOD:
        server.routes[f"/{prefix}/{name}"] = make_route(name)
    return f"{server.url}{prefix}/"


def good_mirror(server: LoopbackServer, prefix: str = "good") -> str:
    for name, body in GOOD.items():
        server.routes[f"/{prefix}/{name}"] = send_bytes(body)
    return f"{server.url}{prefix}"  # no trailing slash: the downloader adds it


def assert_loads_synthetic(cache: Path) -> None:
    (x_train, y_train), (x_test, y_test) = load_mnist(download=False, files=TABLE)
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test")):
        np.testing.assert_array_equal(got, ARRAYS[key])
    np.testing.assert_array_equal(y_test, ARRAYS["y_test"])
    assert sorted(p.name for p in cache.iterdir()) == sorted(spec.name for spec in FILES)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faulty_first_mirror_falls_back_to_second(
    server: LoopbackServer, cache: Path, fault: str
) -> None:
    mirrors = [faulty_mirror(server, fault), good_mirror(server)]
    started = time.monotonic()
    assert download_mnist(mirrors=mirrors, timeout=TIMEOUT, deadline=DEADLINE, files=TABLE) == cache
    assert time.monotonic() - started < 3
    assert_loads_synthetic(cache)
    if FAULTS[fault][0] is not None:
        # Only the first file tries the bad mirror; the mirror that worked is tried first after.
        assert [r for r in server.requests if r.startswith("/bad/")] == [f"/bad/{FILES[0].name}"]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_on_every_mirror_leaves_nothing_then_recovers(
    server: LoopbackServer, cache: Path, fault: str
) -> None:
    first = faulty_mirror(server, fault, "one")
    second = faulty_mirror(server, fault, "two")
    started = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download_mnist(mirrors=[first, second], timeout=TIMEOUT, deadline=DEADLINE, files=TABLE)
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert f"{first}train-images-idx3-ubyte.gz" in message
    assert f"{second}train-images-idx3-ubyte.gz" in message
    assert message.count(FAULTS[fault][1]) == 2
    assert list(cache.iterdir()) == []  # no part files, nothing the loader would take
    with pytest.raises(DataNotFoundError):
        load_mnist(download=False, files=TABLE)

    # Once the fault is gone, the next run succeeds.
    fixed = good_mirror(server, "one") if FAULTS[fault][0] else good_mirror(server)
    download_mnist(mirrors=[fixed], timeout=TIMEOUT, files=TABLE)
    assert_loads_synthetic(cache)


def cannot_write(folder: Path, code: int, fix: str) -> str:
    """The message of a download that cannot write into ``folder`` (errno ``code``)."""
    elsewhere = "set MNIST_CACHE_DIR to another folder"
    return f"cannot write into {folder} ({os.strerror(code)}): {fix}, or {elsewhere}"


def assert_nothing_in(folder: Path) -> None:
    """The folder holds nothing the loader would take for data, nor any part file."""
    assert not folder.exists() or list(folder.iterdir()) == []
    with pytest.raises(DataNotFoundError):
        load_mnist(download=False, files=TABLE)


@pytest.fixture(params=["mount", "no mount"])
def full_cache(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DiskFault]:
    """The cache root on a full disk: a filled tmpfs, or (no mount) a file size limit."""
    with full_disk(tmp_path, mount=request.param == "mount") as fault:
        monkeypatch.setenv("MNIST_CACHE_DIR", str(fault.path))
        yield fault


def test_full_disk_is_reported_as_such_not_retried_and_leaves_nothing(
    server: LoopbackServer, full_cache: DiskFault
) -> None:
    filler = (full_cache.path / "filler").read_bytes()
    data_dir = full_cache.path / "data"
    mirrors = [good_mirror(server, "one"), good_mirror(server, "two")]
    with pytest.raises(DownloadError) as info:
        download_mnist(mirrors=mirrors, timeout=TIMEOUT, files=TABLE)
    assert str(info.value) == cannot_write(data_dir, full_cache.errno, "free some space")
    assert info.value.__cause__.errno == full_cache.errno  # the kernel's own error, chained
    # The mirror is not blamed: the first request was the only one.
    assert server.requests == [f"/one/{FILES[0].name}"]
    assert_nothing_in(data_dir)
    assert (full_cache.path / "filler").read_bytes() == filler  # the user's file is untouched

    full_cache.lift()
    assert download_mnist(mirrors=mirrors, timeout=TIMEOUT, files=TABLE) == data_dir
    assert_loads_synthetic(data_dir)


def test_load_mnist_on_a_full_disk_says_why_in_one_readable_message(
    server: LoopbackServer, full_cache: DiskFault
) -> None:
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(mirrors=[good_mirror(server)], timeout=TIMEOUT, files=TABLE)
    message = str(info.value)
    data_dir = full_cache.path / "data"
    assert message.startswith("MNIST was not found. Places looked at:")
    failure = cannot_write(data_dir, full_cache.errno, "free some space")
    assert f"\nNot downloaded: download failed: {failure}\n" in message
    assert "mirror" not in message  # nothing suggests the server was at fault
    assert "Traceback" not in message
    assert isinstance(info.value.__cause__, DownloadError)
    assert len(server.requests) == 1
    assert_nothing_in(data_dir)

    full_cache.lift()
    loaded = load_mnist(mirrors=[good_mirror(server)], timeout=TIMEOUT, files=TABLE)
    np.testing.assert_array_equal(loaded.train.images, ARRAYS["x_train"])


@pytest.mark.parametrize("data_folder", ["missing", "present"])
def test_read_only_cache_is_reported_as_such_and_recovers(
    server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data_folder: str,
) -> None:
    """Read-only from the start (nowhere to create data/) or with an empty data/ folder."""
    with read_only_folder(tmp_path, *(["data"] if data_folder == "present" else [])) as fault:
        monkeypatch.setenv("MNIST_CACHE_DIR", str(fault.path))
        data_dir = fault.path / "data"
        mirrors = [good_mirror(server, "one"), good_mirror(server, "two")]
        with pytest.raises(DownloadError) as info:
            download_mnist(mirrors=mirrors, timeout=TIMEOUT, files=TABLE)
        assert str(info.value) == cannot_write(data_dir, fault.errno, "make it writable")
        assert server.requests == []  # found out before downloading anything
        assert sorted(p.name for p in fault.path.iterdir()) == sorted(
            ["notes.txt", *(["data"] if data_folder == "present" else [])]
        )
        assert_nothing_in(data_dir)
        with pytest.raises(DataNotFoundError, match="make it writable"):
            load_mnist(mirrors=mirrors, timeout=TIMEOUT, files=TABLE)

        fault.lift()
        download_mnist(mirrors=mirrors, timeout=TIMEOUT, files=TABLE)
        assert_loads_synthetic(data_dir)
        assert (fault.path / "notes.txt").read_text() == "the user's own file\n"


def test_a_destination_given_explicitly_gets_its_own_advice(
    server: LoopbackServer, tmp_path: Path
) -> None:
    with full_disk(tmp_path) as fault:
        with pytest.raises(DownloadError, match="free some space, or download into another folder"):
            download_mnist(fault.path / "mine", mirrors=[good_mirror(server)], files=TABLE)
        assert_nothing_in(fault.path / "mine")


def test_a_failed_rename_takes_back_the_files_already_placed(
    server: LoopbackServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The four files are renamed into place one by one; a failure in between leaves none."""
    real_replace = os.replace
    placed: list[str] = []

    def fail_on_the_third(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if len(placed) == 2:
            raise OSError(errno.EIO, "Input/output error", str(target))
        real_replace(source, target)
        placed.append(str(target))

    monkeypatch.setattr(os, "replace", fail_on_the_third)
    with pytest.raises(DownloadError, match=r"cannot write into .* \(Input/output error\)"):
        download_mnist(mirrors=[good_mirror(server)], timeout=TIMEOUT, files=TABLE)
    assert len(placed) == 2
    assert_nothing_in(cache)


def test_failure_on_the_last_file_discards_the_verified_ones(
    server: LoopbackServer, cache: Path
) -> None:
    mirror = good_mirror(server)
    last = FILES[-1].name
    server.routes[f"/good/{last}"] = send_bytes(OTHER[last])
    with pytest.raises(DownloadError, match=f"could not download {last}"):
        download_mnist(mirrors=[mirror], timeout=TIMEOUT, files=TABLE)
    assert list(cache.iterdir()) == []
    assert len(server.requests) == 4  # the first three were fetched, then thrown away


def test_load_mnist_downloads_into_the_cache_when_nothing_is_found(
    server: LoopbackServer, cache: Path
) -> None:
    loaded = load_mnist(mirrors=[good_mirror(server)], timeout=TIMEOUT, files=TABLE)
    np.testing.assert_array_equal(loaded.train.images, ARRAYS["x_train"])
    assert_loads_synthetic(cache)
    requests = len(server.requests)
    load_mnist(mirrors=[good_mirror(server)], files=TABLE)
    assert len(server.requests) == requests  # found in the cache: no second download


def test_every_mirror_failing_gives_one_not_found_error(
    server: LoopbackServer, cache: Path, tmp_path: Path
) -> None:
    mirrors = [refused_url(), faulty_mirror(server, "404")]
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path / "nowhere", mirrors=mirrors, timeout=TIMEOUT, files=TABLE)
    message = str(info.value)
    # The mirrors' failures are listed one level deeper than the places looked at.
    assert f"\n    - {mirrors[0]}{FILES[0].name}: cannot connect" in message
    assert f"\n    - {mirrors[1]}{FILES[0].name}: HTTP 404" in message
    assert isinstance(info.value.__cause__, DownloadError)
    assert f"data_dir argument {tmp_path / 'nowhere'}: does not exist" in message
    assert f"cache folder {cache}" in message
    assert "download failed" in message
    assert "cannot connect" in message
    assert "HTTP 404" in message
    assert "MNIST_DATA_DIR" in message


def test_offline_means_no_request(
    server: LoopbackServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNIST_OFFLINE", "true")
    mirrors = [good_mirror(server)]
    with pytest.raises(DataNotFoundError, match="MNIST_OFFLINE=true"):
        load_mnist(mirrors=mirrors, files=TABLE)
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_mnist(mirrors=mirrors, files=TABLE, download=False)
    assert server.requests == []
    load_mnist(mirrors=mirrors, files=TABLE, download=True)  # an explicit request wins
    assert len(server.requests) == 4


def test_part_files_are_never_taken_for_data(cache: Path) -> None:
    cache.mkdir(parents=True)
    for spec in FILES:
        (cache / f".{spec.name}.x1y2.part").write_bytes(GOOD[spec.name])
    with pytest.raises(DataNotFoundError, match="holds none"):
        load_mnist(download=False, files=TABLE)


def test_fetch_replaces_a_corrupt_copy(server: LoopbackServer, cache: Path) -> None:
    cache.mkdir(parents=True)
    broken = cache / FILES[0].name
    broken.write_bytes(gzip.compress(b"junk"))
    download_mnist(mirrors=[good_mirror(server)], files=TABLE)
    assert_loads_synthetic(cache)


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="real MNIST not available")
def test_download_of_the_real_files_passes_the_real_checksums(
    server: LoopbackServer, cache: Path
) -> None:
    """Serves the real gzipped files, so the built-in checksum table itself is tested."""
    server.serve_files({spec.name: (REAL_MNIST / spec.name).read_bytes() for spec in FILES})
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(mirrors=[refused_url(), server.url])
        assert x_train.shape == (60000, 28, 28)
        assert x_test.shape == (10000, 28, 28)
        assert y_train[0] == 5
        assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
        assert sorted(p.name for p in cache.iterdir()) == sorted(spec.name for spec in FILES)
        assert all(check.ok for check in verify_mnist())
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # keep no copy of MNIST in pytest's tmp


def test_real_table_rejects_synthetic_files(server: LoopbackServer, cache: Path) -> None:
    with pytest.raises(DownloadError, match="expected 47040016"):
        download_mnist(mirrors=[good_mirror(server)], timeout=TIMEOUT)
    assert list(cache.iterdir()) == []


def test_spec_table_is_the_documented_one() -> None:
    assert [(f.name, f.kind, f.split, f.count, f.size) for f in FILES] == [
        ("train-images-idx3-ubyte.gz", "images", "train", 60000, 47040016),
        ("train-labels-idx1-ubyte.gz", "labels", "train", 60000, 60008),
        ("t10k-images-idx3-ubyte.gz", "images", "test", 10000, 7840016),
        ("t10k-labels-idx1-ubyte.gz", "labels", "test", 10000, 10008),
    ]
    assert all(isinstance(f, MnistFile) and len(f.sha256) == 64 for f in FILES)
