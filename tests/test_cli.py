"""`python -m assistant ask`: the JSON contract, batches with history, errors without tracebacks."""

import io
import json
import subprocess
import sys

import pytest

from assistant import cli
from tests.conftest import ROOT

CONTRACT = {"question", "answer", "refused", "citations", "retrieved", "timings"}
CITATION = {"n", "source", "title", "date", "quote", "chunk_id"}


@pytest.fixture
def env(monkeypatch, indexed_settings, resources):
    """Point the CLI at the session's indexed corpus; answers without a chat model."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(indexed_settings.paths.corpus_dir))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(indexed_settings.paths.chroma_dir))
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "extractive")


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(argv, out=out)
    return code, out.getvalue()


def test_ask_json_follows_the_contract(env):
    code, out = _run(["ask", "What does SibMed want to launch in the near future?", "--json"])
    assert code == 0
    record = json.loads(out)
    assert record.keys() >= CONTRACT, record.keys()
    assert record["citations"] and all(c.keys() >= CITATION for c in record["citations"])
    assert {"chunk_id", "source", "score", "text"} <= record["retrieved"][0].keys()
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= record["timings"].keys()
    assert record["refused"] is False


def test_batch_keeps_order_and_uses_history(env, tmp_path):
    lines = [
        {"question": "What is the weather on Mars?"},
        {
            "question": "What will the parties produce under it?",
            "history": [
                {"role": "user", "content": "What agreement was signed with Inspur?"},
                {"role": "assistant", "content": "A Memorandum in the field of high technologies."},
            ],
        },
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out = _run(["ask", "--batch", str(batch), "--json"])
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["question"] for r in records] == [x["question"] for x in lines]
    assert records[0]["refused"] is True
    assert "server" in records[1]["answer"].casefold(), records[1]["answer"]


def test_bad_batch_line_is_named(env, tmp_path, capsys):
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"question": "ok?"}\n{"history": []}\n', encoding="utf-8")
    code, _ = _run(["ask", "--batch", str(batch), "--json"])
    assert code == 2
    assert f"{batch}:2" in capsys.readouterr().err


def test_missing_index_is_one_line_not_a_traceback(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "ASSISTANT_CHROMA_DIR": str(tmp_path / "nothing-here"),
        "ASSISTANT_LLM_BACKEND": "extractive",
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "What is CPMR?"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "index.py" in done.stderr, (
        f"the message should say how to build the index: {done.stderr}"
    )


def test_commands_share_one_error_edge_and_import_no_cycle():
    """One edge (assistant.cli_edge.guarded) for ask, index and eval; cli and index_cli must not
    import each other at module level."""
    import ast

    from assistant import cli_edge

    sources = {
        name: (ROOT / "assistant" / path).read_text(encoding="utf-8")
        for name, path in (
            ("cli", "cli.py"),
            ("index_cli", "index_cli.py"),
            ("eval", "evaluation/cli.py"),
        )
    }
    for name, source in sources.items():
        tree = ast.parse(source)
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert "guarded" not in defined, f"{name} defines its own error edge"
        assert "from assistant.cli_edge import guarded" in source, f"{name} bypasses the edge"
    assert (
        "assistant.cli " not in sources["index_cli"]
        and "from assistant.cli import" not in (sources["index_cli"])
    ), "index_cli imports cli, which imports index_cli"
    assert callable(cli_edge.guarded)


def test_edge_turns_an_os_error_into_one_line(capsys):
    from assistant.cli_edge import guarded

    def fails() -> int:
        raise PermissionError(13, "Permission denied", "/nowhere/report.md")

    assert guarded(fails, fatal=1) == 1, "an OSError is a fatal status, not a traceback"
    err = capsys.readouterr().err
    assert err.strip() == "error: Permission denied: /nowhere/report.md", err
