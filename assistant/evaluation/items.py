"""Evaluation items: one question per JSONL line, in the format of `shared/eval/dev.jsonl`.

Each line is validated into a frozen `EvalItem`; a bad line fails the whole load with an
`InputError` naming the file, the line number and what is wrong, because a silently skipped
question would make every metric computed afterwards quietly wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import InputError
from assistant.types import ChatTurn


class EvalItem(BaseModel):
    """One graded question: what to ask, and how to tell a right answer from a wrong one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: str = Field(
        min_length=1,
        description="factoid, list, multi_doc, paraphrase, unanswerable, follow_up, russian, ...",
    )
    question: str = Field(min_length=1)
    history: tuple[ChatTurn, ...] = ()
    answer: str = Field(description="Reference answer, for people reading the report.")
    must: tuple[tuple[str, ...], ...] = Field(
        description="Required facts; each inner group needs at least one alternative present."
    )
    must_not: tuple[str, ...] = ()
    evidence: str | None = None
    source: str | None = None
    evidence2: str | None = None
    source2: str | None = None

    @property
    def answerable(self) -> bool:
        """Unanswerable items carry no grading keys and pass only when the assistant declines."""
        return bool(self.must)

    @model_validator(mode="after")
    def _consistent(self) -> EvalItem:
        if any(not group or not all(alt.strip() for alt in group) for group in self.must):
            raise ValueError("every 'must' group needs at least one non-empty alternative")
        if self.kind == "unanswerable" and self.must:
            raise ValueError("an 'unanswerable' item must have an empty 'must' list")
        if self.kind == "follow_up" and not self.history:
            raise ValueError("a 'follow_up' item needs a 'history' of earlier turns")
        return self


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else str(problem["msg"]))
    return "; ".join(parts)


def parse_items(lines: Iterable[str], *, name: str = "<input>") -> list[EvalItem]:
    """Validate JSONL lines into items; blank lines are skipped.

    Raises:
        InputError: a line is not JSON, not a valid item, or repeats an earlier id.
    """
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(raw, dict):
            raise InputError(f"{name}, line {number}: expected a JSON object, one item per line.")
        try:
            item = EvalItem.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"{name}, line {number}: {_describe(exc)}.") from exc
        if item.id in seen:
            raise InputError(
                f"{name}, line {number}: id {item.id!r} repeats the item on line {seen[item.id]}."
            )
        seen[item.id] = number
        items.append(item)
    if not items:
        raise InputError(f"{name} holds no items: expected one JSON object per line.")
    return items


def load_items(path: Path) -> list[EvalItem]:
    """Read and validate an evaluation file (see `parse_items`).

    Raises:
        InputError: the file cannot be read, or a line is malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the evaluation file {path}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"the evaluation file {path} is not UTF-8 text.") from exc
    return parse_items(text.splitlines(), name=str(path))
