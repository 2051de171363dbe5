"""What storing sentence vectors costs the indexer: encoding the chunks alone against what the
indexer does (`assistant.sentences.embed_chunks`: the same forward pass with the tokenizer's
offsets, each sentence's token vectors pooled from it, plus one encode per distinct title and
for any sentence past the model's window), and, for comparison, the older way (each title and
sentence encoded on its own), on the same chunks in the same run.

    nice -n 10 .venv/bin/python bench/sentence_vectors.py [--documents 60] [--rounds 2]

The documents are the first generated news of the question-path bench's corpus (or the project
corpus when that is missing), chunked by the product's chunker. Rounds alternate the two
passes so that a change in the machine's load falls on both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, write_result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from assistant import loaders
    from assistant.chunking import chunk_document
    from assistant.config import load_settings
    from assistant.embeddings import Embedder
    from assistant.sentences import embed_chunks, sentence_texts

    settings = load_settings()
    embedder = Embedder.from_settings(settings.embedding)
    generated = sorted(WORK.glob("corpus-*/generated"))
    folder = generated[-1] if generated else ROOT / "corpus"
    paths = sorted(loaders.discover_files(folder))[: args.documents]
    chunks = []
    for path in paths:
        doc = loaders.load_document(path, folder)
        chunks += chunk_document(
            doc,
            max_tokens=settings.chunking.max_tokens,
            overlap_sentences=settings.chunking.overlap_sentences,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
        )

    def embed(texts: list[str]) -> list[list[float]]:
        return embedder.embed(texts, cache=False)

    embed([c.embedding_text() for c in chunks[:32]])  # warm-up
    texts = list(dict.fromkeys(t for c in chunks for t in sentence_texts(c)))
    chunk_s = late_s = alone_s = 0.0
    standalone = 0
    for _ in range(args.rounds):
        began = time.perf_counter()
        embed([c.embedding_text() for c in chunks])
        chunk_s += time.perf_counter() - began
        began = time.perf_counter()
        standalone = embed_chunks(chunks, embedder, late=True).standalone
        late_s += time.perf_counter() - began
        began = time.perf_counter()
        embed(texts)
        alone_s += time.perf_counter() - began
    figures = {
        "documents": len(paths),
        "chunks": len(chunks),
        "distinct_titles": len({c.title for c in chunks}),
        "distinct_titles_and_sentences": len(texts),
        "sentences_past_the_window": standalone,
        "backend": embedder.backend,
        "chunks_per_s_chunks_only": round(len(chunks) * args.rounds / chunk_s, 1),
        "chunks_per_s_late_chunking": round(len(chunks) * args.rounds / late_s, 1),
        "chunks_per_s_each_sentence_on_its_own": round(
            len(chunks) * args.rounds / (chunk_s + alone_s), 1
        ),
        "late_chunking_over_chunk_pass": round(late_s / chunk_s, 3),
        "sentences_on_their_own_over_chunk_pass": round(alone_s / chunk_s, 2),
    }
    late = figures["late_chunking_over_chunk_pass"]
    alone = figures["sentences_on_their_own_over_chunk_pass"]
    notes = [
        f"late chunking (chunk vectors and pooled sentence vectors from one pass, plus the "
        f"titles) takes {late}x the time of encoding the chunks alone; encoding each title "
        f"and sentence on its own, as format 2 of the store did, added {alone}x "
        f"(the indexer's ceiling {1 / (1 + alone):.0%} of the raw chunk rate)",
    ]
    md = write_result("sentence-vectors", figures, notes)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
