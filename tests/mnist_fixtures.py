"""Small synthetic MNIST-format files and a loopback HTTP server for the data tests.

The synthetic files have the real names and format but a few items each, so the tests run in
milliseconds; ``spec_for`` gives the matching table of counts and checksums to inject, since they
cannot match the real ones. The server answers on 127.0.0.1 only, with per-path faults.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

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


def send_truncated(body: bytes) -> Route:
    """Announce the full length but send half the body, then close the connection."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.close_connection = True

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
