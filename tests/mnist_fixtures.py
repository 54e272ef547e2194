"""Small synthetic MNIST-format files and a loopback HTTP server for the data tests.

The synthetic files have the real names and format but a few items each, so the tests run in
milliseconds; ``spec_for`` gives the matching table of counts and checksums to inject, since they
cannot match the real ones. The server answers on 127.0.0.1 only, with per-path faults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import gzip
import hashlib
import http.server
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_lib.data import FILES, NPZ_NAME, MnistFile

REAL_MNIST = Path("/work/shared/data/mnist")


def synthetic_arrays(n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images and labels 0..9, keyed like a Keras npz (x_train, y_train, ...)."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of an images (N, 28, 28) or labels (N,) uint8 array."""
    if array.ndim == 3:
        header = np.array([2051, len(array), *array.shape[1:]], dtype=">u4").tobytes()
    else:
        header = np.array([2049, len(array)], dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def spec_for(arrays: dict[str, np.ndarray]) -> tuple[MnistFile, ...]:
    """The table of expected counts, sizes and checksums that matches ``arrays``."""
    table = []
    for spec in FILES:
        content = idx_bytes(arrays[spec.npz_key])
        table.append(
            dataclasses.replace(
                spec,
                count=len(arrays[spec.npz_key]),
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return tuple(table)


def gz_files(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The four gzipped files, by standard name, as a mirror would serve them."""
    return {spec.name: gzip.compress(idx_bytes(arrays[spec.npz_key])) for spec in FILES}


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], *, gz: bool = True) -> Path:
    """Write the four files into ``folder`` (gzipped or not) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for spec in FILES:
        content = idx_bytes(arrays[spec.npz_key])
        if gz:
            (folder / spec.name).write_bytes(gzip.compress(content))
        else:
            (folder / spec.raw_name).write_bytes(content)
    return folder


def write_npz(folder: Path, arrays: dict[str, object]) -> Path:
    """Write a Keras-style ``mnist.npz`` holding ``arrays`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NPZ_NAME
    with path.open("wb") as stream:
        np.savez(stream, **arrays)
    return path


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


class LoopbackServer(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 whose answer for each path is a swappable ``Route``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        """Base URL of the server, ending in a slash like the real mirrors."""
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client gives up on a slow route; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def serve_files(self, files: dict[str, bytes]) -> None:
        """Serve each file intact at ``/<name>``."""
        for name, body in files.items():
            self.routes[f"/{name}"] = send_bytes(body)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: LoopbackServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        else:
            route(self)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    """Run a ``LoopbackServer`` in a thread; hanging handlers are released on exit."""
    server = LoopbackServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def send_bytes(body: bytes, content_type: str = "application/octet-stream") -> Route:
    """Answer 200 with ``body``."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return route


def send_status(code: int) -> Route:
    """Answer with an HTTP error status."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_error(code)

    return route


def send_half(body: bytes, *, announce_length: bool = True, end: str = "close") -> Route:
    """Send the headers and half the body, then end the connection early.

    ``announce_length``: the headers give the full Content-Length (which is then not reached)
    or none (the client reads until the connection ends, and sees a clean end). ``end``:
    ``"close"`` (an orderly FIN) or ``"reset"`` (a TCP reset, RST).
    """

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        if announce_length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.close_connection = True
        if end == "reset":
            connection = handler.connection
            # Linger on with a timeout of 0: closing sends RST instead of the orderly FIN.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(connection.detach())

    return route


HTML_PAGE = b"<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>"


def send_hang() -> Route:
    """Accept the request and never answer (until the server stops)."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        assert isinstance(handler.server, LoopbackServer)
        handler.server.release.wait(30)
        handler.close_connection = True

    return route


def send_trickle(body: bytes, interval: float = 0.05, slow_bytes: int = 60) -> Route:
    """Send the first ``slow_bytes`` one at a time, slowly, so no single read ever times out.

    The rest follows at once, so a client without an overall deadline finishes late (and the test
    fails on time) instead of hanging.
    """

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        assert isinstance(handler.server, LoopbackServer)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body[:slow_bytes]:
            if handler.server.release.wait(interval):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        handler.wfile.write(body[slow_bytes:])

    return route


def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def probs_for(predicted: list[int], confidence: list[float]) -> np.ndarray:
    """Probability rows giving ``confidence`` to the predicted digit, the rest spread evenly."""
    rows = np.empty((len(predicted), 10))
    for row, (digit, top) in enumerate(zip(predicted, confidence, strict=True)):
        rows[row] = (1.0 - top) / 9
        rows[row, digit] = top
    return rows


# --------------------------------------------------------------------------------------------
# Real operating-system faults: another user's permissions, a full disk, a read-only folder


def drop_privileges_to() -> tuple[int, int] | None:
    """The (uid, gid) a child process should switch to so that file modes stop it.

    Root reads and writes whatever the modes say, so as root the child becomes ``nobody``; any
    other user is stopped by the modes already and stays itself, (-1, -1). None when neither works.
    """
    if os.geteuid() != 0:
        return (-1, -1)
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return (entry.pw_uid, entry.pw_gid)


@contextmanager
def world_traversable_folder() -> Iterator[Path]:
    """A fresh folder under the system temp folder that every user may enter (mode 0755).

    pytest's ``tmp_path`` lies under a 0700 folder, where another user cannot reach anything.
    """
    folder = Path(tempfile.mkdtemp(prefix="mnist-lib-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in (folder, *folder.rglob("*")):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(folder)


_AS_ANOTHER_USER = """
import json, os, sys
from mnist_lib.data import load_mnist
from mnist_lib.errors import MnistError

uid, gid = int(sys.argv[1]), int(sys.argv[2])
if uid >= 0:  # imports done as ourselves, where the interpreter lives; only the load as them
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
try:
    data = load_mnist(sys.argv[3], download=False, verify=False)
except MnistError as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
else:
    print(json.dumps({"error": None, "message": f"{len(data.train.images)} training images"}))
"""


def load_as_another_user(folder: Path, user: tuple[int, int], cache_root: Path) -> dict[str, Any]:
    """Run ``load_mnist(folder)`` in a child process as ``user``; its error type and message."""
    env = {**os.environ, "MNIST_OFFLINE": "1", "MNIST_CACHE_DIR": str(cache_root)}
    env.pop("MNIST_DATA_DIR", None)
    child = subprocess.run(
        [sys.executable, "-c", _AS_ANOTHER_USER, *map(str, user), str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cache_root,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)


@functools.cache
def can_mount_tmpfs() -> bool:
    """Whether this process may mount a tmpfs (root with the mount capability)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(tempfile.mkdtemp(prefix="mnist-lib-mount-probe-"))
    try:
        _mount_tmpfs(probe, "size=64k")
    except (OSError, subprocess.CalledProcessError):
        return False
    else:
        _unmount(probe)
        return True
    finally:
        probe.rmdir()


def _run_mount(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=30)


def _mount_tmpfs(path: Path, options: str) -> None:
    _run_mount("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path))


def _remount(path: Path, options: str) -> None:
    _run_mount("mount", "-o", f"remount,{options}", str(path))


def _unmount(path: Path) -> None:
    _run_mount("umount", str(path))


def _fill(path: Path) -> None:
    """Write zeros into ``path`` until the disk says it is full."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):  # ENOSPC: the disk is full now
            while os.write(handle, b"\0" * 4096):
                pass
    finally:
        os.close(handle)


@dataclasses.dataclass
class DiskFault:
    """A folder where writing fails with a real kernel error until ``lift()`` is called."""

    path: Path
    how: str
    """"tmpfs" (a small or read-only mount), "rlimit" (RLIMIT_FSIZE) or "chmod"."""
    errno: int
    lift: Callable[[], None]


@contextmanager
def full_disk(base: Path, *, mount: bool = True) -> Iterator[DiskFault]:
    """A folder on a full disk: a 64 KiB tmpfs filled up (ENOSPC), where root may mount one.

    Otherwise, or with ``mount=False``, a file size limit of 4 KiB for this process with SIGXFSZ
    ignored, so that any write past it fails with EFBIG: a real kernel fault without privilege.
    A file ``filler`` in the folder stands for the user's own data. ``lift()`` removes the fault
    (the disk grows to 4 MiB, or the limit goes).
    """
    path = base / "full-disk"
    path.mkdir()
    if mount and can_mount_tmpfs():
        _mount_tmpfs(path, "size=64k")
        try:
            _fill(path / "filler")
            yield DiskFault(path, "tmpfs", errno.ENOSPC, lambda: _remount(path, "size=4m"))
        finally:
            _unmount(path)
        return
    (path / "filler").write_bytes(b"\0" * 4096)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def lift() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)

    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
    try:
        yield DiskFault(path, "rlimit", errno.EFBIG, lift)
    finally:
        lift()
        signal.signal(signal.SIGXFSZ, handler)


@contextmanager
def read_only_folder(
    base: Path, *subfolders: str, prepare: Callable[[Path], None] | None = None
) -> Iterator[DiskFault]:
    """A read-only folder holding the empty ``subfolders`` and a ``notes.txt`` of the user's.

    ``prepare(folder)`` writes anything else into it while it is still writable.
    A tmpfs mounted read-only where root may mount one (EROFS: root cannot write there either);
    otherwise, for a user other than root, mode 0555 (EACCES). Skips the test when neither can
    stop this process. ``lift()`` makes it writable again.
    """
    path = base / "read-only"
    path.mkdir()
    if can_mount_tmpfs():
        _mount_tmpfs(path, "size=4m")
        how, code = "tmpfs", errno.EROFS

        def protect() -> None:
            _remount(path, "ro")

        def lift() -> None:
            _remount(path, "rw")

    elif os.geteuid() != 0:
        how, code = "chmod", errno.EACCES

        def folders() -> list[Path]:
            return [path, *(inner for inner in path.rglob("*") if inner.is_dir())]

        def protect() -> None:
            for folder in folders():
                folder.chmod(0o555)

        def lift() -> None:
            for folder in folders():
                folder.chmod(0o755)

    else:
        pytest.skip("root without permission to mount: no way to make a folder read-only")
    try:
        for name in subfolders:
            (path / name).mkdir(parents=True)
        (path / "notes.txt").write_text("the user's own file\n")
        if prepare is not None:
            prepare(path)
        protect()
        yield DiskFault(path, how, code, lift)
    finally:
        if how == "tmpfs":
            _unmount(path)
        else:
            lift()


# --------------------------------------------------------------------------------------------
# Child Python processes that start their real work at the same moment


TESTS_DIR = Path(__file__).resolve().parent

_CHILD_PRELUDE = f"""
import json, sys
sys.path.insert(0, {str(TESTS_DIR)!r})
import mnist_lib  # first: it sets TensorFlow's threads and quiets its log
import keras  # TensorFlow starts before the signal, so the children then run side by side

def started_together():
    print("ready", flush=True)
    assert sys.stdin.readline() == "go\\n"

def report(values):
    print(json.dumps(values), flush=True)
"""


class Child:
    """A Python child process running ``code`` after a prelude with two helpers.

    ``started_together()`` tells the parent it is ready (TensorFlow imported) and waits for the
    signal to go; ``report(values)`` prints one line of JSON, which ``result()`` returns. Its
    standard error goes to a file, so a chatty child never blocks on a full pipe.
    """

    def __init__(self, code: str, *args: str) -> None:
        self._errors = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed with the object)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_PRELUDE + code, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        assert self.receive() == "ready"

    def go(self) -> None:
        self.send("go")

    def send(self, line: str) -> None:
        """One line to the child's standard input."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def receive(self) -> str:
        """The child's next line of standard output."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the child ended early: {self.stop()}"
        return line.rstrip("\n")

    def result(self, timeout: float = 120) -> Any:
        """The child's report, once it has ended; its standard error if it failed."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        out = self.process.stdout.read()  # through the same buffer as receive(): no line lost
        assert self.process.wait(timeout=timeout) == 0, self.stop()
        return json.loads(out.splitlines()[-1])

    def stop(self) -> str:
        """End the process if it still runs (a failed test must not leave it); its stderr."""
        if self.running():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        self._errors.seek(0)
        return self._errors.read()


@contextmanager
def started_together(*children: Child) -> Iterator[tuple[Child, ...]]:
    """Wait until every child is ready, then let them all go at once; kill them on exit."""
    try:
        for child in children:
            child.wait_ready()
        for child in children:
            child.go()
        yield children
    finally:
        for child in children:
            child.stop()
