"""Load on the HTTP API: N concurrent clients for D seconds against `python -m assistant serve`.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 60] [--backend local|extractive]
                                   [--stream]

Indexes a temp copy of corpus/ (embedded Chroma), starts `serve` on a free port with the
default settings (the local SmolLM2 model unless --backend says otherwise), and lets every
client ask question after question, each waiting for its answer (or a 4xx/5xx, or its own
120 s timeout) before the next. All clients come from 127.0.0.1, so the per-client rate limit
is lifted for the run: this measures capacity and back-pressure, not the limiter. Writes
bench/results/<date>-<host>-load-<backend>.md and .json: throughput, latency p50/p95/max of
answered requests, outcomes by status, and the server's resident memory (start after one
warm-up answer, peak, end).
Figures are measurements, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, write_result

sys.path.insert(0, str(ROOT))

from assistant import service
from assistant.config import LLMSettings, PathSettings, load_settings

# Everyday questions a website visitor might ask; not an evaluation set.
QUESTIONS = [
    "What is the mandate of CPMR?",
    "What does the Centre for Promotion of Medical Research offer students?",
    "Which partnerships with medical universities were announced?",
    "What are the objectives of the centre?",
    "Who can use the research facilities of the centre?",
    "What agreements were signed with universities in Kazakhstan?",
    "What is the weather in Paris tomorrow?",
    "How does CPMR support research workers?",
]
CLIENT_TIMEOUT_S = 120.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MemoryWatch:
    """Samples the resident memory of a process (and its children) twice a second."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss_mb(self) -> float:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self._rss_mb())
            except psutil.Error:
                return
            self._stop.wait(0.5)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _client(
    index: int, url: str, deadline: float, stream: bool, results: list[tuple[str, float]]
) -> None:
    path = "/api/chat/stream" if stream else "/api/chat"
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_S) as client:
        turn = index
        while time.monotonic() < deadline:
            question = QUESTIONS[turn % len(QUESTIONS)]
            turn += 1
            started = time.monotonic()
            try:
                if stream:
                    async with client.stream("POST", url + path, json={"message": question}) as r:
                        async for _ in r.aiter_bytes():
                            pass
                        status = str(r.status_code)
                else:
                    r = await client.post(url + path, json={"message": question})
                    status = str(r.status_code)
            except httpx.TimeoutException:
                status = "client timeout"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            results.append((status, time.monotonic() - started))
            if status == "503":
                retry = float(r.headers.get("retry-after", "1"))
                await asyncio.sleep(min(retry, max(0.0, deadline - time.monotonic())))


async def _load(url: str, clients: int, seconds: float, stream: bool) -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_client(i, url, deadline, stream, results) for i in range(clients)))
    return results


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 300:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}")
        try:
            if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("serve did not become ready within 300 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backend", choices=["local", "extractive"], default="local")
    parser.add_argument("--stream", action="store_true", help="use /api/chat/stream")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cpmr-load-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    settings = load_settings().model_copy(
        update={
            "paths": PathSettings(
                corpus_dir=work / "corpus",
                chroma_dir=work / "chroma",
                feedback_db=work / "feedback.sqlite3",
            ),
            "llm": LLMSettings(backend="extractive"),
        }
    )
    service.build_index(settings=settings)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(work / "corpus"),
        "ASSISTANT_CHROMA_DIR": str(work / "chroma"),
        "ASSISTANT_FEEDBACK_DB": str(work / "feedback.sqlite3"),
        "ASSISTANT_LLM_BACKEND": args.backend,
        "ASSISTANT_API_RATE_LIMIT": "1000000/minute",
        "PYTHONPATH": str(ROOT),
    }
    log = (work / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    figures: dict[str, object] = {"backend": args.backend, "clients": args.clients}
    try:
        figures["startup_to_ready_s"] = round(_wait_ready(url, process), 1)
        # One untimed answer first: the first one allocates the model's buffers, which would
        # otherwise read as growth under load.
        httpx.post(url + "/api/chat", json={"message": QUESTIONS[0]}, timeout=CLIENT_TIMEOUT_S)
        with MemoryWatch(process.pid) as memory:
            started = time.monotonic()
            results = asyncio.run(_load(url, args.clients, args.seconds, args.stream))
            elapsed = time.monotonic() - started
        health_after = httpx.get(url + "/api/health", timeout=10).json()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        server_log = (work / "serve.log").read_text(encoding="utf-8", errors="replace")
        shutil.rmtree(work, ignore_errors=True)

    answered = [seconds for status, seconds in results if status == "200"]
    by_status = Counter(status for status, _ in results)
    figures.update(
        {
            "endpoint": "/api/chat/stream" if args.stream else "/api/chat",
            "duration_s": round(elapsed, 1),
            "requests": len(results),
            "answered_200": len(answered),
            "throughput_answers_per_s": round(len(answered) / elapsed, 3),
            "latency_p50_s": round(statistics.median(answered), 2) if answered else None,
            "latency_p95_s": round(_pct(answered, 0.95), 2) if answered else None,
            "latency_max_s": round(max(answered), 2) if answered else None,
            "slowest_any_status_s": round(max(s for _, s in results), 2) if results else None,
            "outcomes_by_status": dict(sorted(by_status.items())),
            "unexpected_5xx": sum(
                n for s, n in by_status.items() if s.startswith("5") and s != "503"
            ),
            "server_rss_start_mb": round(memory.samples[0], 1) if memory.samples else None,
            "server_rss_peak_mb": round(max(memory.samples), 1) if memory.samples else None,
            "server_rss_end_mb": round(memory.samples[-1], 1) if memory.samples else None,
            "health_after": health_after.get("status"),
            "server_tracebacks": server_log.count("Traceback"),
        }
    )
    api = settings.api
    figures["settings"] = (
        f"concurrency={api.concurrency}, queue={api.queue}, retry_after={api.retry_after}s, "
        f"llm_threads={settings.llm_threads}, rate limit lifted"
    )

    figures["versions"] = ", ".join(
        f"{p} {version(p)}" for p in ("fastapi", "uvicorn", "sse-starlette", "llama_cpp_python")
    )
    write_result(f"load-{args.backend}", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
