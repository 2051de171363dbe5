"""The embedder's two backends: ONNX Runtime (default) and torch give the same vectors."""

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


def test_export_is_cached_and_reused(embedder):
    settings = EmbeddingSettings()
    model_dir = str(packaged_model_path())
    path = cache_path(model_dir, settings.onnx_dir)
    assert path.is_file(), f"the exported model should be cached at {path}"
    before = path.stat().st_mtime_ns
    again = Embedder.from_settings(settings)
    assert again.backend == "onnx"
    assert path.stat().st_mtime_ns == before, "a cached export must be reused, not redone"
