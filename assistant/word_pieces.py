"""The embedding model's tokenizer, run by the `tokenizers` library alone.

transformers' fast tokenizers are this library with a Python wrapper around it; reading the
model folder's `tokenizer.json` here gives the same ids, type ids and offsets (checked in
`tests/test_word_pieces.py`) without importing transformers, which imports torch: the ONNX
path then loads in 0.6 s instead of 5.2, in 238 MB instead of 586 (`bench/embedding_speed.py`).

Two copies of the tokenizer, each configured once: one counts (no special tokens, nothing
cut), one encodes for the model (special tokens, cut to its window, no padding: the encoder
pads a batch itself). Neither changes after, so both may be called from several threads at
once (a tokenizer reconfigured while another thread encodes fails with "Already borrowed").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import Encoding, Tokenizer

from assistant.errors import ModelError

TOKENIZER_FILE = "tokenizer.json"


class WordPieces:
    """Token counts and model inputs of one tokenizer, for a model reading `max_length`."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, pad_id: int | None = None) -> None:
        self.max_length = max_length
        # What fills a batch past a text's end; the attention mask hides it from the model,
        # so it changes no vector, but the model's own pad token is what it was trained on.
        padding = tokenizer.padding or {}
        self.pad_id = int(pad_id if pad_id is not None else padding.get("pad_id") or 0)
        self._counter = _copy(tokenizer)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._encoder = _copy(tokenizer)
        self._encoder.no_padding()
        self._encoder.enable_truncation(max_length)

    @classmethod
    def from_folder(cls, folder: Path, max_length: int) -> WordPieces:
        path = folder / TOKENIZER_FILE
        try:
            return cls(Tokenizer.from_file(str(path)), max_length)
        except Exception as exc:
            raise ModelError(f"cannot read the embedding model's tokenizer {path}: {exc}") from exc

    @classmethod
    def of(cls, tokenizer: Any, max_length: int) -> WordPieces:
        """From a transformers tokenizer: the `tokenizers` one inside it."""
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if not isinstance(backend, Tokenizer):
            raise ModelError(
                f"the embedding model's tokenizer ({type(tokenizer).__name__}) is not a fast "
                "(Rust) tokenizer; choose a model that ships a tokenizer.json"
            )
        pad_id = getattr(tokenizer, "pad_token_id", None)
        return cls(backend, max_length, pad_id if isinstance(pad_id, int) else None)

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without the special tokens the model adds."""
        if not texts:
            return []
        encoded = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def encode(self, texts: Sequence[str]) -> list[Encoding]:
        """What the model reads of each text: special tokens added, cut to its window."""
        return self._encoder.encode_batch(list(texts)) if texts else []


def _copy(tokenizer: Tokenizer) -> Tokenizer:
    return Tokenizer.from_str(tokenizer.to_str())
