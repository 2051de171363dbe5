"""The tokenizer read without transformers, and the ONNX embedder that starts without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.config import EmbeddingSettings
from assistant.embeddings import Embedder, packaged_model_path
from assistant.onnx_encoder import FolderModel
from assistant.word_pieces import WordPieces
from tests.conftest import CORPUS, NEWS_FIXTURES

ROOT = Path(__file__).resolve().parent.parent
ODD = [
    "",
    " ",
    "Ünïcödé — “quotes”, 中文, Кыргызча, emoji 🧪 and tabs\tinside",
    "word " * 400,  # past the window: cut to 256 tokens with the special ones
    "x" * 3000,
    "Dr. A. Osmonova (CPMR) signed on 14.04.2026; e.g. 600,000 som.",
]


def _texts() -> list[str]:
    texts = list(ODD)
    for folder in (CORPUS, NEWS_FIXTURES):
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".md", ".txt", ".html"}:
                texts += [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return texts


@pytest.fixture(scope="module")
def reference():
    """transformers' own tokenizer of the bundled model: what sentence-transformers feeds it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(packaged_model_path())


def test_counts_ids_types_and_offsets_match_transformers(reference):
    texts = _texts()
    assert len(texts) > 50
    pieces = WordPieces.from_folder(packaged_model_path(), 256)
    expected_counts = [len(ids) for ids in reference(texts, add_special_tokens=False)["input_ids"]]
    assert pieces.count(texts) == expected_counts
    expected = reference(texts, truncation=True, max_length=256, return_offsets_mapping=True)
    encoded = pieces.encode(texts)
    assert [e.ids for e in encoded] == expected["input_ids"]
    assert [e.type_ids for e in encoded] == expected["token_type_ids"]
    assert [e.offsets for e in encoded] == [list(map(tuple, o)) for o in expected["offset_mapping"]]
    assert max(len(e.ids) for e in encoded) == 256, "the long texts are cut to the window"
    assert pieces.pad_id == reference.pad_token_id


def test_the_folder_file_presets_are_not_what_is_used():
    """The bundled tokenizer.json pads and cuts to 128; counting must do neither, encoding cut
    to the model's own window only."""
    pieces = WordPieces.from_folder(packaged_model_path(), 256)
    long = "word " * 400
    assert pieces.count([long]) == [400]
    assert len(pieces.encode([long])[0].ids) == 256
    assert len(pieces.encode(["short"])[0].ids) == 3, "no padding to 128"


def test_counting_while_another_thread_encodes():
    """The chunker counts on its thread while the main thread encodes: neither tokenizer is
    reconfigured on a call, so neither fails with "Already borrowed"."""
    pieces = WordPieces.from_folder(packaged_model_path(), 256)
    texts = _texts()[:200]
    errors: list[BaseException] = []

    def count() -> None:
        try:
            for _ in range(30):
                pieces.count(texts)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    worker = threading.Thread(target=count)
    worker.start()
    for _ in range(30):
        pieces.encode(texts)
    worker.join()
    assert not errors, errors


def test_folder_model_reads_what_the_loaded_model_says(embedder):
    folder = FolderModel.read(str(packaged_model_path()))
    assert folder is not None
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(packaged_model_path()), device="cpu")
    assert folder.dimension == model.get_embedding_dimension() == embedder.dimension
    assert folder.max_length == model.max_seq_length == embedder.max_tokens


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(packaged_model_path(), target)
    return target


def test_folder_model_refuses_other_architectures(tmp_path):
    folder = _copy_model(tmp_path)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps(config | {"pooling_mode_cls_token": True}))
    assert FolderModel.read(str(folder)) is None, "CLS pooling is not what the encoder computes"
    pooling.write_text(json.dumps(config))
    assert FolderModel.read(str(folder)) is not None
    (folder / "tokenizer.json").unlink()
    assert FolderModel.read(str(folder)) is None, "no fast tokenizer file"
    assert FolderModel.read(str(tmp_path / "missing")) is None
    assert FolderModel.read("sentence-transformers/all-MiniLM-L6-v2") is None, "a hub name"


def test_an_exported_model_loads_without_torch_and_gives_the_same_vectors(embedder, tmp_path):
    """A fresh process: the ONNX embedder of an exported folder imports neither torch nor
    transformers, and its vectors are the in-process embedder's, bit for bit."""
    assert embedder.backend == "onnx"  # the fixture exported the model already
    texts = ["CPMR signed a memorandum with Nordhavn University.", "Short."]
    script = "\n".join(
        [
            "import json, sys",
            "from assistant.config import EmbeddingSettings",
            "from assistant.embeddings import Embedder",
            "e = Embedder.from_settings(EmbeddingSettings())",
            f"vectors = e.embed({texts!r}, cache=False)",
            "print(json.dumps({'backend': e.backend, 'dimension': e.dimension,",
            "  'window': e.max_tokens, 'count': e.count_tokens('Dr. A. Osmonova'),",
            "  'vectors': vectors, 'torch': 'torch' in sys.modules,",
            "  'transformers': 'transformers' in sys.modules}))",
        ]
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["torch"] is False and got["transformers"] is False, got
    assert got["backend"] == "onnx"
    assert (got["dimension"], got["window"]) == (embedder.dimension, embedder.max_tokens)
    assert got["count"] == embedder.count_tokens("Dr. A. Osmonova")
    here = np.asarray(embedder.embed(texts, cache=False))
    assert np.array_equal(np.asarray(got["vectors"]), here)


def test_a_folder_not_yet_exported_is_loaded_whole_and_exported(tmp_path):
    """The first load of a model folder exports it (torch needed once); the next one reads the
    export without the model."""
    folder = _copy_model(tmp_path)
    settings = EmbeddingSettings(model=str(folder), onnx_dir=tmp_path / "onnx")
    first = Embedder.from_settings(settings)
    assert first._model is not None and first.backend == "onnx"
    second = Embedder.from_settings(settings)
    assert second._model is None and second.backend == "onnx"
    text = ["The council met in Bishkek."]
    assert np.array_equal(np.asarray(first.embed(text)), np.asarray(second.embed(text)))
