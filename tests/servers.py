"""Helpers for tests that run a real server on loopback (Chroma, Streamlit, llama.cpp, the API),
and a silent TCP server that stands for a hung one."""

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Terminate a server, and kill it if it does not exit within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class SilentServer:
    """A real TCP server on loopback that accepts connections and never answers: what a hung
    Chroma or chat server looks like to a client. Use as a context manager; `.port`.

    With `forward_to`, it is a plain TCP proxy to that port until `hang()` is called; from
    then on it swallows whatever either side sends, on open and new connections alike.
    """

    def __init__(self, forward_to: int | None = None) -> None:
        self.forward_to = forward_to
        self._hung = threading.Event() if forward_to else None
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self._open: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def hang(self) -> None:
        assert self._hung is not None, "hang() needs a forwarding server"
        self._hung.set()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._open.append(conn)
            if self.forward_to is None:
                continue  # hold the connection open, say nothing
            upstream = socket.create_connection(("127.0.0.1", self.forward_to))
            self._open.append(upstream)
            for src, dst in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        assert self._hung is not None
        try:
            while data := src.recv(65536):
                if not self._hung.is_set():
                    dst.sendall(data)
        except OSError:
            return

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        for conn in [self._sock, *self._open]:
            with contextlib.suppress(OSError):
                conn.close()


def start_chroma_server(path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A real `chroma run` on a free port, storing under `path`; returns (process, port)."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path / "data"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                return process, port
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"chroma server did not start: {(path / 'server.log').read_text()}")
        time.sleep(0.2)


@contextlib.contextmanager
def llama_server(model_path: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` on loopback serving a GGUF file: a real OpenAI-compatible
    endpoint. Yields its /v1 URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the llama.cpp server did not start within 60 s")
            time.sleep(0.5)
        yield url
    finally:
        stop(process)
