"""Side-by-side comparison of several question files (and backends): docs/evaluation.md.

One table per backend puts each measure of every question file in a column (tune, held-out
and dev in the order the command named them), with issue 7's held-out target and the gap
between tune and held-out; a second table does the same per kind. The whole document is
generated, so it can be regenerated with the final code by the command it names.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import InputError
from assistant.evaluation.report import MachineInfo
from assistant.evaluation.results import EvalResult, Ratio, Scores

TUNE, HELDOUT = "tune", "heldout"


def set_name(result: EvalResult) -> str:
    """The question file's stem: `tune`, `heldout`, `dev`, ..."""
    return Path(result.info.dataset).stem or "eval"


def _pct(ratio: Ratio) -> str:
    value = ratio.value
    return "—" if value is None else f"{value:.1%} ({ratio.hits}/{ratio.total})"


def _secs(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


def _points(a: Ratio, b: Ratio) -> str:
    if a.value is None or b.value is None:
        return "—"
    return f"{(a.value - b.value) * 100:+.1f}"


RatioOf = Callable[[Scores], Ratio]

MEASURES: list[tuple[str, RatioOf, str]] = [
    ("correct (answerable items)", lambda s: s.correctness, ">= 90%"),
    ("refusal accuracy (unanswerable declined)", lambda s: s.refusal_accuracy, ">= 95%"),
    ("false refusals (answerable declined)", lambda s: s.false_refusals, "<= 3%"),
    ("citation accuracy", lambda s: s.citation_accuracy, ">= 97%"),
    ("second report cited (multi_doc)", lambda s: s.evidence2_cited, ""),
    ("faithfulness (supported sentences)", lambda s: s.faithfulness, ">= 99%"),
    ("must_not respected", lambda s: s.must_not_clean, "100%"),
    ("retrieval hit@1", lambda s: s.hit_at_1, ""),
    ("retrieval hit@5", lambda s: s.hit_at_5, ""),
]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def _gap_pair(runs: Sequence[EvalResult]) -> tuple[EvalResult, EvalResult] | None:
    named = {set_name(r): r for r in runs}
    if TUNE in named and HELDOUT in named:
        return named[TUNE], named[HELDOUT]
    return None


def _measure_rows(runs: Sequence[EvalResult]) -> list[list[str]]:
    pair = _gap_pair(runs)
    rows = []
    for name, ratio_of, target in MEASURES:
        row = [name, *(_pct(ratio_of(r.overall)) for r in runs)]
        if pair:
            row.append(_points(ratio_of(pair[0].overall), ratio_of(pair[1].overall)))
        rows.append([*row, target])
    latency: list[tuple[str, Callable[[EvalResult], float | None], str]] = [
        ("latency p50, total", lambda r: r.latency.total_ms.p50, "<= 1.5 s"),
        ("latency p95, total", lambda r: r.latency.total_ms.p95, ""),
        ("latency p50, first sentence", lambda r: r.latency.first_token_ms.p50, ""),
    ]
    for name, value_of, target in latency:
        rows.append([name, *(_secs(value_of(r)) for r in runs), *([""] if pair else []), target])
    return rows


def _kind_cell(scores: Scores | None) -> str:
    if scores is None:
        return "—"
    parts = []
    if scores.correctness.total:
        parts.append(f"correct {_pct(scores.correctness)}")
    if scores.refusal_accuracy.total:
        parts.append(f"declined {_pct(scores.refusal_accuracy)}")
    return "; ".join(parts) or "—"


def _kind_rows(runs: Sequence[EvalResult]) -> list[list[str]]:
    kinds = list(dict.fromkeys(kind for r in runs for kind in r.by_kind))
    pair = _gap_pair(runs)
    rows = []
    for kind in kinds:
        row = [kind, *(_kind_cell(r.by_kind.get(kind)) for r in runs)]
        if pair:
            tune, held = pair[0].by_kind.get(kind), pair[1].by_kind.get(kind)
            row.append(_kind_gap(tune, held))
        rows.append(row)
    return rows


def _kind_gap(tune: Scores | None, held: Scores | None) -> str:
    """Gap of the kind's pass rate (correct and declined items together), in points."""
    if tune is None or held is None:
        return "—"

    def passed(s: Scores) -> Ratio:
        return Ratio(
            hits=s.correctness.hits + s.refusal_accuracy.hits,
            total=s.correctness.total + s.refusal_accuracy.total,
        )

    return _points(passed(tune), passed(held))


def _store_line(run: EvalResult) -> str:
    info = run.info
    line = f"{info.corpus_documents} documents, {info.corpus_chunks} chunks"
    if info.extra_folders:
        line += (
            f" (corpus/ plus {info.extra_documents} documents of "
            f"{', '.join(info.extra_folders)}, indexed into a temporary store)"
        )
    if info.distractor_documents:
        line += f", of which {info.distractor_documents:,} distractors"
    return line


def code_version() -> str:
    """The commit the measured code is at (with a note when the tree has changes), or ''."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout, or no git
        return ""
    return f"{head} (with uncommitted changes)" if dirty else head


def render_comparison(
    runs: Sequence[EvalResult],
    *,
    machine: MachineInfo,
    command: str,
    title: str,
    version: str = "",
) -> str:
    """The comparison document for `runs` (any number of files and backends)."""
    backends = list(dict.fromkeys(r.info.backend for r in runs))
    first = runs[0]
    lines = [
        f"# {title}",
        "",
        f"Generated by `{command}` on {first.info.started:%Y-%m-%d %H:%M} UTC"
        + (f", code at commit {version}" if version else "")
        + ". Regenerate it with the same command (`make eval`); do not edit by hand.",
        "",
        f"- Machine: {machine.cpu_model}, {machine.cores} cores, {machine.ram_gb:g} GB RAM, "
        f"Python {machine.python}; load average when written "
        f"{' / '.join(f'{v:.2f}' for v in machine.load_average or ())}",
        f"- Store: {_store_line(first)}; embedding model {first.info.embedding_model}; "
        f"top_k {first.info.top_k}",
        "- Question files: "
        + ", ".join(
            f"`{r.info.dataset}` ({r.overall.items} items)"
            for r in runs
            if r.info.backend == backends[0]
        ),
        "",
        "`tune` is what rules, weights and thresholds are fitted on; `heldout` is scored and "
        "reported, never inspected item by item (see `eval/README.md`); `dev` "
        "(`../shared/eval/dev.jsonl`) is a third, untouched check. *gap* is tune minus "
        "held-out in points: a large gap means something was fitted to items rather than "
        "learned. Targets are issue 7's, for the held-out split with the default backend.",
        "",
        "Measures: *correct*: answerable items (small talk included) answered, not refused, "
        "with every `must` group; *refusal accuracy*: unanswerable items declined without a "
        "`must_not` phrase; *false refusals*: answerable items declined; *citation accuracy*: "
        "answered items citing a passage that holds `evidence`; *faithfulness*: answer "
        "sentences supported by the quotes they cite, re-checked independently (small-talk "
        "replies are not counted); *must_not respected*: items with `must_not` phrases whose "
        "answer or refusal shows none; *hit@k*: `evidence` in the first k retrieved passages.",
        "",
    ]
    for backend in backends:
        group = [r for r in runs if r.info.backend == backend]
        names = [set_name(r) for r in group]
        gap = ["gap tune − held-out"] if _gap_pair(group) else []
        lines += [
            f"## Backend `{backend}` (chat model: {group[0].info.chat_model})",
            "",
            *_table(["measure", *names, *gap, "target (held-out)"], _measure_rows(group)),
            "",
            f"### Per kind, backend `{backend}`",
            "",
            *_table(["kind", *names, *gap], _kind_rows(group)),
            "",
        ]
    return "\n".join(lines)


def load_reports(folder: Path) -> list[EvalResult]:
    """The runs saved as JSON reports in `folder`, ordered by backend, then tune, held-out,
    dev and any other file.

    Raises:
        InputError: the folder holds no report, or a file is not one.
    """
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not paths:
        raise InputError(f"{folder} holds no JSON evaluation reports.")
    runs = []
    for path in paths:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            data = {key: payload[key] for key in EvalResult.model_fields if key in payload}
            runs.append(EvalResult.model_validate(data))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not an evaluation report: {exc}") from exc
    order = {TUNE: 0, HELDOUT: 1, "dev": 2}
    return sorted(runs, key=lambda r: (r.info.backend, order.get(set_name(r), 3), set_name(r)))


def write_comparison(
    runs: Sequence[EvalResult], path: Path, *, machine: MachineInfo, command: str, title: str
) -> Path:
    """Write the comparison document to `path` (its folder is created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_comparison(
        runs, machine=machine, command=command, title=title, version=code_version()
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path
