"""The shared fixtures beside the project are read loudly: missing files fail, never skip."""

import ast

import pytest

from tests.conftest import ROOT, shared_file, shared_files


def test_an_empty_shared_folder_fails_instead_of_yielding_no_tests(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"no \*\.md files"):
        shared_files(tmp_path, "*.md")


def test_a_missing_shared_file_fails(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="missing"):
        shared_file(tmp_path / "dev.jsonl")


def test_no_test_globs_the_shared_folders_directly():
    """`SEEDS.glob(...)` finds nothing quietly when ../shared is absent; use shared_files."""
    shared_names = {"SHARED", "SEEDS", "NEWS_FIXTURES", "DEV_SET"}
    offenders = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"glob", "rglob", "iterdir"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in shared_names
            ):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "skipif":
                offenders.extend(
                    f"{path.name}:{node.lineno} (skipif)"
                    for name in ast.walk(node)
                    if isinstance(name, ast.Name) and name.id in shared_names
                )
    assert not offenders, f"shared fixtures read without a loud failure: {offenders}"
