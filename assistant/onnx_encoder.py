"""The embedding model run by ONNX Runtime: the same vectors as torch, faster on a CPU.

The ONNX graph is exported from the weights already loaded by sentence-transformers (the
bundled all-MiniLM-L6-v2 by default), once, into a cache folder; nothing is downloaded.
sentence-transformers' own ONNX backend needs optimum-onnx, which pins transformers below the
version this project runs, so the export uses torch's exporter and the pooling that the
model's sentence-transformers config names (mean of the token vectors, then unit length) is
done here in numpy. Only that architecture (Transformer, mean Pooling, Normalize) is accepted;
any other model stays on torch.

Once exported, a model folder needs neither torch nor transformers: `FolderModel` reads what
the encoder needs (window, dimension, pooling) from the folder's sentence-transformers files,
and `assistant.word_pieces` its tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import usable_cores
from assistant.errors import ModelError
from assistant.pooling import Spans, pool_spans
from assistant.word_pieces import TOKENIZER_FILE, WordPieces

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# The opset every onnxruntime of the last years runs; BERT needs nothing newer.
_OPSET = 17


def _check_architecture(model: SentenceTransformer) -> None:
    modules: list[Any] = list(model)
    names = [type(module).__name__ for module in modules]
    pooling = modules[1].get_config_dict() if len(modules) > 1 else {}
    if names[:2] != ["Transformer", "Pooling"] or pooling.get("pooling_mode") != "mean":
        raise ModelError(
            f"the onnx embedding backend supports mean-pooled models only, not {names}: "
            "set ASSISTANT_EMBEDDING_BACKEND=torch"
        )


@dataclass(frozen=True)
class FolderModel:
    """What the encoder needs of a sentence-transformers model folder, read from its files
    (`modules.json`, the pooling and window configs, `tokenizer.json`) without loading it."""

    folder: Path
    dimension: int
    max_length: int

    @classmethod
    def read(cls, name_or_path: str) -> FolderModel | None:
        """The folder's description, or None when it is not a local folder of the one
        architecture the encoder runs (then the model is loaded, and checked, as a whole)."""
        folder = Path(name_or_path)
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
            pooling_dir = folder / str(modules[1]["path"])
            pooling = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
            window = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
        mean_only = modes.pop("pooling_mode_mean_tokens", False) is True and not any(modes.values())
        dimension = pooling.get("word_embedding_dimension")
        max_length = window.get("max_seq_length")
        if (
            kinds[:2] != ["Transformer", "Pooling"]
            or not mean_only
            or not isinstance(dimension, int)
            or not isinstance(max_length, int)
            or not (folder / TOKENIZER_FILE).is_file()
        ):
            return None
        return cls(folder, dimension, max_length)


def cache_path(name_or_path: str, cache_dir: Path) -> Path:
    """Where the exported graph of this model lives; the key changes when the weights do."""
    key = hashlib.sha256(name_or_path.encode())
    folder = Path(name_or_path)
    if folder.is_dir():
        for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
            stat = path.stat()
            key.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(name_or_path).name)
    return cache_dir / f"{stem[:60]}-{key.hexdigest()[:12]}.onnx"


def export(model: SentenceTransformer, target: Path) -> Path:
    """Export the model's transformer to `target` (written atomically), from loaded weights."""
    import torch

    _check_architecture(model)
    transformer: Any = model[0].auto_model

    class _Encoder(torch.nn.Module):
        # Keyword arguments: the positional order of BertModel.forward changes between
        # transformers versions.
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["an example", "a second example sentence"], padding=True)
    args = tuple(torch.tensor(sample[name]) for name in _INPUTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(handle)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter is deprecated but needs no extra packages (the dynamo
            # one needs onnxscript); its tracer warnings are about code paths BERT never takes.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Encoder().eval(),
                args,
                tmp,
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in _INPUTS}
                | {"last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=_OPSET,
                dynamo=False,
            )
        Path(tmp).replace(target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ModelError(
            f"cannot export the embedding model to ONNX ({exc}): set "
            "ASSISTANT_EMBEDDING_BACKEND=torch"
        ) from exc
    log.info("embedding model exported to %s", target)
    return target


class OnnxEncoder:
    """Mean-pooled, unit-length sentence vectors from an exported graph (thread-safe).

    The session computes each batch on one core, and a call of several batches runs up to
    `threads` of them at once (ONNX Runtime releases the GIL while it computes). One session
    on several cores instead (its default) makes the cores meet at every operator: whenever
    another thread of the process takes a core (the indexer's chunker, its store writes), the
    other core waits at the next meeting. Measured with a thread taking 30% of a core beside
    the encoder on 2 cores: 28-31 against 34 texts/s, where 33 is all that the rest of the CPU
    allows; with nothing beside it, both ran 39 texts/s. A batch's vectors are the same bit
    for bit either way (`tests/test_embeddings.py`); a lone question costs ~1 ms more.
    """

    def __init__(self, path: Path, tokens: WordPieces, threads: int = 0) -> None:
        """`threads`: batches encoded at once, each on one core; 0 = one per core this process
        may use."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelError(
                f"cannot load the ONNX embedding model {path} ({exc}): delete it to export it "
                "again, or set ASSISTANT_EMBEDDING_BACKEND=torch"
            ) from exc
        self._tokens = tokens
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.threads = threads if threads > 0 else usable_cores()
        self._workers: ThreadPoolExecutor | None = None
        self._workers_lock = threading.Lock()

    @property
    def tokens(self) -> WordPieces:
        return self._tokens

    @classmethod
    def load(
        cls, model: SentenceTransformer, name_or_path: str, cache_dir: Path, threads: int = 0
    ) -> OnnxEncoder:
        """The encoder for `model`, exporting it into `cache_dir` the first time."""
        _check_architecture(model)
        path = cache_path(name_or_path, cache_dir)
        if not path.exists():
            export(model, path)
        tokens = WordPieces.of(model.tokenizer, int(model.max_seq_length or 256))
        return cls(path, tokens, threads)

    @classmethod
    def exported(cls, model: FolderModel, cache_dir: Path, threads: int = 0) -> OnnxEncoder | None:
        """The encoder of an already exported model folder, loaded without torch; None when it
        has not been exported yet (`load` does that from the loaded model)."""
        path = cache_path(str(model.folder), cache_dir)
        if not path.is_file():
            return None
        return cls(path, WordPieces.from_folder(model.folder, model.max_length), threads)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Vectors for `texts`, in order. Texts are batched by token count, so that a batch
        pads to its own longest text rather than the longest of all."""
        return self.encode_spans(texts, None, batch_size)[0]

    def encode_spans(
        self, texts: list[str], spans: Sequence[Spans] | None, batch_size: int
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """`encode`, and with `spans` (character ranges per text) the vector of each range
        pooled from the same token outputs (`assistant.pooling`); the texts' own vectors are
        the same as `encode`'s (the same batches, the same pooling).

        The texts are tokenized once, ordered by token count and padded here a batch at a
        time. sentence-transformers orders by characters instead, which left the words of the
        corpus word table (`assistant.retrieval.word_vectors`: 3-11 tokens each) padded to 1.6
        times their tokens in batches of 32. A text's vector does not depend on the batch it
        is in or on the padding (checked bit for bit: `tests/test_embeddings.py`), so the
        order changes no vector, only the work."""
        vectors = np.empty((len(texts), 0), dtype=np.float32)
        pooled_spans: list[list[np.ndarray | None]] = [[] for _ in texts]
        if not texts:
            return vectors, pooled_spans
        encoded = self._tokens.encode(texts)
        ids = [e.ids for e in encoded]
        types = [e.type_ids for e in encoded]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        batches = [order[at : at + batch_size] for at in range(0, len(order), batch_size)]

        def run(batch: list[int]) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
            lengths = [len(ids[i]) for i in batch]
            feed = self._padded(batch, lengths, ids, types)
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden[0] * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            if spans is None:
                return pooled, []
            return pooled, [
                pool_spans(
                    hidden[0][row, :n],
                    np.asarray(encoded[index].offsets).reshape(-1, 2),
                    np.ones(n, dtype=np.int64),
                    spans[index],
                )
                for row, (index, n) in enumerate(zip(batch, lengths, strict=True))
            ]

        if len(batches) == 1:
            results: Iterator[tuple[np.ndarray, list[list[np.ndarray | None]]]] = map(run, batches)
        else:
            # Longest first: the batches still running when the others are done are then the
            # short ones, so no core idles long at the end of a call (~4 s of 100 at 300
            # documents when the indexer made two calls a write batch, longest last).
            batches.reverse()
            results = self._parallel().map(run, batches)
        for batch, (pooled, batch_spans) in zip(batches, results, strict=True):
            if vectors.shape[1] == 0:
                vectors = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
            vectors[batch] = pooled
            if spans is not None:
                for index, pooled_span in zip(batch, batch_spans, strict=True):
                    pooled_spans[index] = pooled_span
        return vectors, pooled_spans

    def _parallel(self) -> ThreadPoolExecutor:
        """The threads that run batches, made on the first call of several batches (a process
        that only embeds questions never needs them)."""
        with self._workers_lock:
            if self._workers is None:
                self._workers = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-encode")
            return self._workers

    def _padded(
        self,
        batch: list[int],
        lengths: list[int],
        ids: list[list[int]],
        types: list[list[int]],
    ) -> dict[str, np.ndarray]:
        """The inputs for the texts `batch`, padded on the right to the longest (pad id, mask
        0, type 0): after its last real token, so that a text's positions are the ones it has
        alone."""
        shape = (len(batch), max(lengths))
        input_ids = np.full(shape, self._tokens.pad_id, dtype=np.int64)
        attention = np.zeros(shape, dtype=np.int64)
        token_types = np.zeros(shape, dtype=np.int64)
        for row, index in enumerate(batch):
            n = lengths[row]
            input_ids[row, :n] = ids[index]
            attention[row, :n] = 1
            token_types[row, :n] = types[index]
        return {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": token_types}
