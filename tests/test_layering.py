"""The one-service-layer rule, checked on the source: who may import what."""

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "assistant"
UI_ONLY = {
    "streamlit": "assistant/ui/",
    # The HTTP stack stays inside the API package.
    "fastapi": "assistant/api/",
    "starlette": "assistant/api/",
    "sse_starlette": "assistant/api/",
    "uvicorn": "assistant/api/",
}
# Foundation modules import only errors from the project; pure modules only the foundation.
FOUNDATION = {"types", "errors", "config"}
PURE = {
    "chunking",
    "citations",
    "answering/prompts",
    "answering/questions",
    "retrieval/filters",
    "retrieval/fusion",
    "answering/wording",
    "segmenter",
    "text",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "assistant":
                names.update(f"assistant.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_ui_frameworks_only_in_ui_modules():
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        for framework, allowed in UI_ONLY.items():
            used = any(i == framework or i.startswith(framework + ".") for i in _imports(path))
            assert not used or rel.startswith(allowed), f"{rel} imports {framework}"


def test_foundation_and_pure_modules_stay_low():
    for name in FOUNDATION | PURE:
        path = PACKAGE / f"{name}.py"
        project = {i.split(".")[1] for i in _imports(path) if i.startswith("assistant.")}
        allowed = {"errors"} if name in FOUNDATION else FOUNDATION | {"text", "segmenter"}
        assert project <= allowed, f"assistant/{name}.py imports {sorted(project - allowed)}"


def test_front_ends_hold_no_pipeline_logic():
    for front in ("app.py", "index.py"):
        path = ROOT / front
        if not path.exists():
            continue
        project = {i for i in _imports(path) if i.startswith("assistant.")}
        forbidden = {
            "assistant.retrieval",
            "assistant.answering.prompts",
            "assistant.llm",
            "assistant.answering.evidence",
        }
        assert not project & forbidden, (
            f"{front} reaches past the service layer: {project & forbidden}"
        )
