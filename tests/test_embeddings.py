"""The embedder's two backends: ONNX Runtime (default) and torch give the same vectors."""

import os
import threading

import numpy as np

from assistant.config import EmbeddingSettings
from assistant.embeddings import Embedder, packaged_model_path
from assistant.onnx_encoder import cache_path

TEXTS = [
    "The Centre for Promotion of Medical Research was founded at Ala-Too International University.",
    "Short.",
    "A memorandum of cooperation was signed with a Chinese high-tech company in Guangzhou, "
    "covering joint research, student exchange and clinical training over five years.",
]


def test_default_backend_is_onnx_and_matches_torch(embedder):
    assert embedder.backend == "onnx", "the default embedding backend should be ONNX Runtime"
    torch_embedder = Embedder.from_settings(EmbeddingSettings(backend="torch"))
    assert torch_embedder.backend == "torch"
    onnx_vectors = np.asarray(embedder.embed(TEXTS, cache=False))
    torch_vectors = np.asarray(torch_embedder.embed(TEXTS, cache=False))
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > 0.9999, f"ONNX and torch vectors should agree, cosines {cosine}"
    norms = np.linalg.norm(onnx_vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), f"vectors should be unit length: {norms}"


def test_batches_sorted_by_length_keep_the_input_order(embedder):
    one_by_one = [embedder.embed([t], cache=False)[0] for t in TEXTS]
    together = embedder.embed(TEXTS, cache=False)
    for single, batched in zip(one_by_one, together, strict=True):
        assert np.dot(single, batched) > 0.9999, "a text's vector must not depend on its batch"


# Texts of very different token counts: single words (the corpus word table embeds these),
# sentences, a chunk, and one longer than the model's window (truncated).
MIXED = [
    "laboratory",
    "a",
    "xylophonists",
    "Guangzhou",
    *TEXTS,
    "memorandum",
    " ".join(["The centre signed a memorandum with partner hospitals."] * 60),
    "vaccine trials",
]


def test_a_vector_is_bit_identical_alone_and_in_any_batch(embedder):
    """The encoder batches a call's texts by token count and pads each batch itself: the
    corpus word table relies on a word's vector being exactly the one it gets alone."""
    alone = np.stack([embedder.embed_array([t])[0] for t in MIXED])
    for batch_size in (1, 2, 3, 32):
        together = embedder._onnx.encode(list(MIXED), batch_size)
        assert np.array_equal(together, alone), (
            f"batches of {batch_size} changed some vector (max difference "
            f"{np.abs(together - alone).max()}): a vector must not depend on its batch"
        )
    reversed_ = embedder._onnx.encode(MIXED[::-1], 4)[::-1]
    assert np.array_equal(reversed_, alone), "the order of the texts changed some vector"
    listed = np.asarray(embedder.embed(MIXED, cache=False), dtype=np.float32)
    assert np.array_equal(embedder.embed_array(MIXED), listed), (
        "embed_array gives exactly embed's vectors, as one float32 matrix"
    )
    assert embedder.embed_array([]).shape == (0, embedder.dimension), "no texts, no rows"


class _RecordingSession:
    """The real ONNX Runtime session, recording the shape of each batch it is given."""

    def __init__(self, session) -> None:
        self.session = session
        self.shapes: list[tuple[int, int]] = []

    def __getattr__(self, name):
        return getattr(self.session, name)

    def run(self, outputs, feed):
        self.shapes.append(feed["input_ids"].shape)
        return self.session.run(outputs, feed)


def test_batches_are_made_of_texts_of_similar_token_counts(embedder, monkeypatch):
    """Ordered by tokens, not characters: a long word of many word pieces and a short phrase
    of few are batched with texts of their own token count, so little padding is computed."""
    encoder = embedder._onnx
    texts = ["xylophonists", "kyrgyzstan", "a b c d e f g", "it is so", "ok", "the cat", "mrna"]
    counts = sorted(embedder.count_tokens_many(texts))
    recorder = _RecordingSession(encoder._session)
    monkeypatch.setattr(encoder, "_session", recorder)
    encoder.encode(texts, 2)
    padded = sum(rows * width for rows, width in recorder.shapes)
    # Each text also gets [CLS] and [SEP]; batches of 2 in token order pad only to the longer
    # text of each pair.
    fewest = sum(
        len(counts[at : at + 2]) * (max(counts[at : at + 2]) + 2) for at in range(0, len(counts), 2)
    )
    assert padded == fewest, (
        f"batches {recorder.shapes} compute {padded} token positions; ordered by token count "
        f"they need {fewest} (token counts {counts})"
    )


class _ConcurrencySession(_RecordingSession):
    """The real session, recording how many of its runs were under way at once."""

    def __init__(self, session) -> None:
        super().__init__(session)
        self._lock = threading.Lock()
        self._running = 0
        self.most = 0
        self.threads: set[str] = set()

    def run(self, outputs, feed):
        with self._lock:
            self._running += 1
            self.most = max(self.most, self._running)
            self.threads.add(threading.current_thread().name)
        try:
            return super().run(outputs, feed)
        finally:
            with self._lock:
                self._running -= 1


def test_a_call_of_several_batches_runs_them_on_one_core_each_at_once(monkeypatch):
    """Each batch on one core, `threads` batches at a time: a thread of the indexer taking a
    core then slows one batch, instead of making both cores wait at every operator."""
    embedder = Embedder.from_settings(EmbeddingSettings(threads=2))
    encoder = embedder._onnx
    assert encoder.threads == 2
    assert encoder._session.get_session_options().intra_op_num_threads == 1, (
        "the session should compute a batch on one core"
    )
    recorder = _ConcurrencySession(encoder._session)
    monkeypatch.setattr(encoder, "_session", recorder)
    texts = [f"{word} " * 120 for word in ("clinical", "trial", "memorandum", "seminar")] * 4
    together = encoder.encode(texts, 2)
    assert recorder.most == 2, f"batches should run two at a time, at most {recorder.most} did"
    assert all(name.startswith("onnx-encode") for name in recorder.threads), recorder.threads
    alone = np.stack([encoder.encode([text], 2)[0] for text in texts[:4]])
    assert np.array_equal(together[:4], alone), "a vector must not depend on the thread"

    single = _ConcurrencySession(recorder.session)
    monkeypatch.setattr(encoder, "_session", single)
    encoder.encode(["one short question"], 32)
    assert single.threads == {threading.current_thread().name}, (
        "a call of one batch (a question) should run in the caller's thread"
    )


def test_encoder_threads_default_to_the_usable_cores():
    embedder = Embedder.from_settings(EmbeddingSettings())
    assert embedder._onnx.threads == len(os.sched_getaffinity(0))
    assert Embedder.from_settings(EmbeddingSettings(threads=1))._onnx.threads == 1


def test_export_is_cached_and_reused(embedder):
    settings = EmbeddingSettings()
    model_dir = str(packaged_model_path())
    path = cache_path(model_dir, settings.onnx_dir)
    assert path.is_file(), f"the exported model should be cached at {path}"
    before = path.stat().st_mtime_ns
    again = Embedder.from_settings(settings)
    assert again.backend == "onnx"
    assert path.stat().st_mtime_ns == before, "a cached export must be reused, not redone"


# -- late chunking: sentence vectors pooled from the chunk's own forward pass ---------------

CHUNK = (
    "CPMR news (2024-05-02)\n"
    "The council met in Bishkek. It approved three joint projects with partner universities. "
    "Dr. A. Osmonova chairs the new committee on clinical research, e.g. trials and ethics."
)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    header = text.index("\n") + 1
    spans = []
    for sentence in ("The council met in Bishkek.", "It approved three", "Dr. A. Osmonova"):
        start = text.index(sentence)
        end = text.find(". ", start + len(sentence) - 1)
        spans.append((start, end + 1 if end > 0 else len(text)))
    assert spans[0][0] == header, "the first sentence opens the chunk's text"
    return spans


def _direct(text: str, spans: list[tuple[int, int]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The chunk and sentence vectors computed straight from the transformer's token outputs
    (transformers itself, not sentence-transformers or the ONNX graph), finding each sentence's
    tokens by `char_to_token` rather than by the offsets the product reads."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = packaged_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    encoded = tokenizer(text, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state[0].numpy()
    chunk = hidden.mean(axis=0)
    sentences = []
    for start, end in spans:
        tokens = sorted({encoded.char_to_token(0, c) for c in range(start, end)} - {None})
        vector = hidden[tokens].mean(axis=0)
        sentences.append(vector / np.linalg.norm(vector))
    return chunk / np.linalg.norm(chunk), sentences


def test_late_pooled_vectors_are_the_token_outputs_mean_on_both_backends(embedder):
    spans = _sentence_spans(CHUNK)
    chunk, sentences = _direct(CHUNK, spans)
    torch_embedder = Embedder.from_settings(EmbeddingSettings(backend="torch"))
    pooled = {}
    for backend, model in (("onnx", embedder), ("torch", torch_embedder)):
        vectors, rows = model.embed_spans([CHUNK], [spans])
        assert np.allclose(vectors[0], model.embed([CHUNK], cache=False)[0], atol=1e-6), (
            f"{backend}: the chunk's vector from the pooling pass is the one embed gives"
        )
        assert float(np.dot(vectors[0], chunk)) > 0.9999, f"{backend}: the chunk's mean"
        pooled[backend] = np.stack(rows[0])
        cosines = (pooled[backend] * np.stack(sentences)).sum(axis=1)
        assert cosines.min() > 0.9999, (
            f"{backend}: each sentence's vector is the mean of its own tokens: {cosines}"
        )
    agree = (pooled["onnx"] * pooled["torch"]).sum(axis=1)
    assert agree.min() > 0.9999, f"ONNX and torch pool the same sentence vectors: {agree}"
    alone = np.asarray(embedder.embed([CHUNK[s:e] for s, e in spans], cache=False))
    read_alone = (pooled["onnx"] * alone).sum(axis=1)
    assert read_alone.max() < 0.999, (
        f"a sentence read in its chunk is not the sentence encoded alone: {read_alone}"
    )


def test_a_span_past_the_window_gets_no_pooled_vector(embedder):
    long = " ".join(f"Sentence number {n} says a little more about the centre." for n in range(60))
    last = long.rindex("Sentence")
    _, rows = embedder.embed_spans([long], [[(0, 10), (last, len(long))]])
    assert rows[0][0] is not None, "a span inside the window is pooled"
    assert rows[0][1] is None, "a span the tokenizer truncated away has no tokens to pool"
