"""Settings: the README's table matches the Settings classes, both ways."""

import re

from assistant.config import SECTIONS, env_names, load_settings
from tests.conftest import ROOT


def _documented() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def _declared() -> set[str]:
    return {name for section in SECTIONS for name in env_names(section).values()}


def test_every_setting_is_documented():
    missing = _declared() - _documented()
    assert not missing, f"settings missing from the README table: {sorted(missing)}"


def test_every_documented_setting_exists():
    unknown = _documented() - _declared()
    assert not unknown, f"README documents settings that do not exist: {sorted(unknown)}"


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "local")
    monkeypatch.setenv("CHROMA_HOST", "chroma.internal")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL_TOP_K", "7")
    settings = load_settings()
    assert (settings.llm.backend, settings.store.host, settings.retrieval.top_k) == (
        "local",
        "chroma.internal",
        7,
    )


def test_bad_value_names_the_variable(monkeypatch):
    import pytest

    from assistant.errors import ConfigError

    monkeypatch.setenv("ASSISTANT_RETRIEVAL_TOP_K", "0")
    with pytest.raises(ConfigError, match="ASSISTANT_RETRIEVAL_TOP_K"):
        load_settings()


def test_bad_value_of_a_shared_field_name_names_its_own_section(monkeypatch):
    """max_tokens exists in the chunking and the LLM sections; the error must name the right one."""
    import pytest

    from assistant.errors import ConfigError

    monkeypatch.setenv("ASSISTANT_LLM_MAX_TOKENS", "many")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "ASSISTANT_LLM_MAX_TOKENS" in str(caught.value), str(caught.value)
    assert "ASSISTANT_CHUNK_MAX_TOKENS" not in str(caught.value), (
        f"the chunking variable was blamed for the LLM one: {caught.value}"
    )
