"""Embedding speed of all-MiniLM-L6-v2: torch against ONNX Runtime (and int8 ONNX), same chunks.

    nice -n 10 .venv/bin/python bench/embedding_speed.py [--documents 60] [--rounds 2]

The chunks are the project chunker's chunks of generated news (`bench/corpus.py`, seed 0);
each backend embeds all of them, in turns (torch, onnx, int8, torch, ...) so that a change in
the shared machine's load hits every backend alike, and the best round counts. Also measured:
one short question at a time (the question path's cost), how close each backend's vectors
are to torch's (cosine), and what loading each costs a fresh process (wall time, peak memory,
whether torch was imported: the ONNX backend over an exported model needs neither torch nor
transformers). int8 is made with onnxruntime's dynamic quantisation of the exported
graph; it is measured, not offered, unless its vectors stay close to torch's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, summary_ms, write_result

QUESTIONS = [
    "What does the centre do?",
    "When was the memorandum signed?",
    "Who leads the research programme?",
    "Which universities joined the association?",
    "How many students took part in the exchange?",
]


def _chunks(documents: int) -> list[str]:
    from assistant import loaders
    from assistant.chunking import chunk_document
    from assistant.config import ChunkingSettings, EmbeddingSettings
    from assistant.embeddings import Embedder
    from corpus import write_corpus

    folder = Path(tempfile.mkdtemp(prefix="cpmr-embed-bench-"))
    write_corpus(folder, documents=documents, seed=0)
    counter = Embedder.from_settings(EmbeddingSettings(backend="torch"))
    settings = ChunkingSettings()
    texts: list[str] = []
    for doc in loaders.load_corpus(folder)[0]:
        chunks = chunk_document(
            doc,
            max_tokens=settings.max_tokens,
            overlap_sentences=settings.overlap_sentences,
            count_tokens=counter.count_tokens,
            window=counter.max_tokens,
        )
        texts.extend(c.embedding_text() for c in chunks)
    return texts


_LOAD = """
import json, sys, time
started = time.perf_counter()
from assistant.config import EmbeddingSettings
from assistant.embeddings import Embedder
embedder = Embedder.from_settings(EmbeddingSettings(backend=sys.argv[1]))
embedder.embed(["warm-up question"], cache=False)
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 2),
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's over fork and exec).
    "peak_rss_mb": round(int(next(line.split()[1] for line in open("/proc/self/status")
                                  if line.startswith("VmHWM:"))) / 1024),
    "torch_imported": "torch" in sys.modules,
}))
"""


def load_in_fresh_process(backend: str, rounds: int = 3) -> dict[str, Any]:
    """Import, load and one embedding in a new interpreter: what a replica or `index.py` pays
    before its first vector (the fastest of `rounds`; the ONNX export is already cached)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    runs = []
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD, backend],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best: dict[str, Any] = min(runs, key=lambda r: r["seconds"])
    return best | {"seconds_rounds": [r["seconds"] for r in runs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=60, help="generated news documents")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.config import EmbeddingSettings
    from assistant.embeddings import Embedder, packaged_model_path
    from assistant.onnx_encoder import OnnxEncoder, cache_path
    from assistant.word_pieces import WordPieces

    texts = _chunks(args.documents)
    torch_embedder = Embedder.from_settings(EmbeddingSettings(backend="torch"))
    started = time.perf_counter()
    onnx_embedder = Embedder.from_settings(EmbeddingSettings(backend="onnx"))
    onnx_load_s = time.perf_counter() - started  # includes the export when not cached yet
    exported = cache_path(str(packaged_model_path()), EmbeddingSettings().onnx_dir)
    int8_path = Path(tempfile.mkdtemp(prefix="cpmr-int8-")) / "model-int8.onnx"
    quantize_dynamic(str(exported), str(int8_path), weight_type=QuantType.QInt8)
    model: Any = torch_embedder._model
    int8_embedder = Embedder(
        model,
        torch_embedder.model_id,
        torch_embedder.batch_size,
        onnx=OnnxEncoder(int8_path, WordPieces.of(model.tokenizer, torch_embedder.max_tokens)),
    )
    backends = {"torch": torch_embedder, "onnx": onnx_embedder, "onnx_int8": int8_embedder}

    rates: dict[str, list[float]] = {name: [] for name in backends}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, embedder in backends.items():
            began = time.perf_counter()
            vectors[name] = np.asarray(embedder.embed(texts, cache=False))
            rates[name].append(len(texts) / (time.perf_counter() - began))
    query_ms: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(4):
        for name, embedder in backends.items():
            for question in QUESTIONS:
                began = time.perf_counter()
                embedder.embed([question], cache=False)
                query_ms[name].append((time.perf_counter() - began) * 1000)

    figures: dict[str, Any] = {"chunks": len(texts), "onnx_first_load_s": round(onnx_load_s, 1)}
    for name in backends:
        cosine = (vectors[name] * vectors["torch"]).sum(axis=1)
        figures[name] = {
            "chunks_per_s_best": round(max(rates[name]), 1),
            "chunks_per_s_rounds": [round(r, 1) for r in rates[name]],
            "speedup_vs_torch": round(max(rates[name]) / max(rates["torch"]), 2),
            "cosine_to_torch_min": round(float(cosine.min()), 6),
            "cosine_to_torch_mean": round(float(cosine.mean()), 6),
            "query": summary_ms(query_ms[name]),
        }
    figures["load_in_fresh_process"] = {
        name: load_in_fresh_process(name) for name in ("onnx", "torch")
    }
    md = write_result("embedding-speed", figures)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
