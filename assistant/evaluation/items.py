"""Evaluation items: one question per JSONL line, in the format of `shared/eval/dev.jsonl`.

Each line is validated into a frozen `EvalItem`; a bad line fails the whole load with an
`InputError` naming the file, the line number and what is wrong, because a silently skipped
question would make every metric computed afterwards quietly wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import InputError
from assistant.types import ChatTurn

KINDS_WITHOUT_EVIDENCE = frozenset({"smalltalk"})
"""Answerable kinds graded on their reply alone: no source sentence holds the answer."""


class EvalItem(BaseModel):
    """One graded question: what to ask, and how to tell a right answer from a wrong one.

    `answerable` may be given explicitly (the project's set does, `eval/README.md`); when it
    is left out it follows from `must`, as in `shared/eval/dev.jsonl`: an item without
    grading keys is one the assistant must decline.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: str = Field(
        min_length=1,
        description="factoid, acronym, list, multi_doc, paraphrase, unanswerable, follow_up, "
        "smalltalk, russian, kyrgyz, ...",
    )
    question: str = Field(min_length=1)
    history: tuple[ChatTurn, ...] = ()
    answer: str = Field(description="Reference answer, for people reading the report.")
    answerable: bool = Field(
        default=True,  # replaced by _default_answerable when the line leaves it out
        description="False: the assistant must decline (no must keys, no evidence).",
    )
    must: tuple[tuple[str, ...], ...] = Field(
        description="Required facts; each inner group needs at least one alternative present."
    )
    must_not: tuple[str, ...] = ()
    evidence: str | None = None
    source: str | None = None
    evidence2: str | None = None
    source2: str | None = None
    topic: str | None = Field(
        default=None,
        description="Topic group of an item without evidence; the split keeps a group together.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_answerable(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("answerable") is None:
            return {**data, "answerable": bool(data.get("must"))}
        return data

    @property
    def needs_evidence(self) -> bool:
        """Whether the answer should come from (and cite) a source passage."""
        return self.answerable and self.kind not in KINDS_WITHOUT_EVIDENCE

    @model_validator(mode="after")
    def _consistent(self) -> EvalItem:
        if any(not group or not all(alt.strip() for alt in group) for group in self.must):
            raise ValueError("every 'must' group needs at least one non-empty alternative")
        if self.kind == "unanswerable" and self.answerable:
            raise ValueError("an 'unanswerable' item cannot be answerable")
        if self.answerable and not self.must:
            raise ValueError("an answerable item needs 'must' keys")
        if not self.answerable and (self.must or self.evidence or self.evidence2):
            raise ValueError("an unanswerable item has an empty 'must' and no evidence")
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
