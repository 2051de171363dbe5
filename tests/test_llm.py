"""Chat backends: the local GGUF model in-process, and the OpenAI-compatible client against a
real OpenAI-compatible server (llama.cpp's, serving the same bundled SmolLM2 model)."""

from dataclasses import replace

import pytest
from langchain_core.messages import HumanMessage

from assistant import service
from assistant.config import LLMSettings
from assistant.errors import ModelError
from assistant.llm import load_chat_backend, packaged_gguf_path
from tests.servers import free_port, llama_server


@pytest.fixture(scope="module")
def openai_server():
    """`python -m llama_cpp.server` on loopback: a real OpenAI-compatible endpoint."""
    with llama_server(packaged_gguf_path()) as url:
        yield url


@pytest.mark.slow
def test_local_backend_streams_text(local_backend):
    pieces = list(local_backend.stream([HumanMessage(content="Say hello.")]))
    assert len(pieces) > 1 and "".join(pieces).strip(), "the local model should stream tokens"


def test_missing_gguf_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="ASSISTANT_LLM_MODEL_PATH"):
        load_chat_backend(
            LLMSettings(backend="local", model_path=str(tmp_path / "none.gguf")), threads=1
        )


def test_extractive_backend_has_no_model():
    assert load_chat_backend(LLMSettings(backend="extractive"), threads=1) is None


@pytest.mark.slow
def test_openai_backend_against_a_real_server(openai_server, resources):
    backend = load_chat_backend(
        LLMSettings(backend="openai", base_url=openai_server, model="smollm2"), threads=1
    )
    assert backend is not None and backend.name == "openai"
    answer = service.ask(
        "What does SibMed want to launch in the near future?",
        resources=replace(resources, backend=backend, _answerer=None),
    )
    assert answer.backend == "openai" and not answer.refused
    assert "dual-degree" in answer.text.casefold(), answer.text
    assert all(s.verified for s in answer.sentences), answer.sentences


@pytest.mark.slow
def test_openai_backend_stops_at_max_tokens(openai_server):
    backend = load_chat_backend(
        LLMSettings(backend="openai", base_url=openai_server, model="smollm2", max_tokens=16),
        threads=1,
    )
    assert backend is not None
    text = "".join(backend.stream([HumanMessage(content="Write a long story about a ship.")]))
    assert text.strip() and len(text.split()) <= 16, text


def test_unreachable_server_is_a_model_error(resources):
    backend = load_chat_backend(
        LLMSettings(backend="openai", base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=5),
        threads=1,
    )
    with pytest.raises(ModelError, match="ASSISTANT_LLM"):
        service.ask(
            "What does SibMed want to launch in the near future?",
            resources=replace(resources, backend=backend, _answerer=None),
        )
