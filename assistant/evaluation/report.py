"""Writes an evaluation run as a Markdown report for people and a JSON file for tools.

The Markdown holds the targets of issue 3 with whether each is met (and by how much it is
missed), the overall, per-kind and latency tables, the machine and corpus the numbers were
measured on, and every failed item with its question, answer and failed checks. The JSON
holds the same plus every item's full result.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from assistant.config import usable_cores
from assistant.evaluation.results import EvalResult, ItemResult, Percentiles, Ratio, Scores

MIN_DISTRACTORS_FOR_SCALED_TARGET = 2000
UNLISTED_SETS = frozenset({"heldout"})
"""Question files (by stem) whose reports show scores only, never items (eval/README.md)."""
HIDDEN_NOTE = (
    "This is the held-out split: it is scored and reported, never inspected item by item, "
    "so its items are not listed (see eval/README.md). Read the tune split's report instead."
)


class MachineInfo(BaseModel):
    """The machine a run was measured on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu_model: str
    cores: int
    ram_gb: float
    python: str
    platform: str
    load_average: tuple[float, float, float] | None = None


def _read_field(path: Path, key: str) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def _load_average() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):  # not available on this platform
        return None
    return round(one, 2), round(five, 2), round(fifteen, 2)


def collect_machine_info() -> MachineInfo:
    """CPU model (from /proc/cpuinfo), usable cores, RAM, Python, platform and load average.

    The load average tells a reader whether other work competed for the cores, which
    latency numbers depend on.
    """
    cpu = _read_field(Path("/proc/cpuinfo"), "model name") or platform.processor() or "unknown"
    cores = usable_cores()
    mem = _read_field(Path("/proc/meminfo"), "MemTotal")
    ram_gb = int(mem.split()[0]) / 1024**2 if mem else 0.0
    return MachineInfo(
        cpu_model=cpu,
        cores=cores,
        ram_gb=round(ram_gb, 1),
        python=platform.python_version(),
        platform=platform.platform(),
        load_average=_load_average(),
    )


# --- targets ---------------------------------------------------------------------------


class TargetCheck(BaseModel):
    """One target of issue 3 and how the run measured against it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    target: str
    measured: str
    met: bool | None
    gap: str


def _ratio_target(name: str, ratio: Ratio, bound: float, *, at_most: bool = False) -> TargetCheck:
    value = ratio.value
    sign = "<=" if at_most else ">="
    if value is None:
        return TargetCheck(
            name=name, target=f"{sign} {bound:.0%}", measured="n/a", met=None, gap="no cases"
        )
    met = value <= bound if at_most else value >= bound
    gap = "" if met else f"missed by {abs(value - bound) * 100:.1f} points"
    return TargetCheck(
        name=name, target=f"{sign} {bound:.0%}", measured=_pct(ratio), met=met, gap=gap
    )


def _latency_target(name: str, stats: Percentiles, bound_ms: float) -> TargetCheck:
    target = f"p50 <= {bound_ms / 1000:g} s"
    if stats.p50 is None:
        return TargetCheck(name=name, target=target, measured="n/a", met=None, gap="not reported")
    met = stats.p50 <= bound_ms
    gap = "" if met else f"{(stats.p50 - bound_ms) / 1000:.2f} s too slow"
    return TargetCheck(name=name, target=target, measured=_secs(stats.p50), met=met, gap=gap)


def evaluate_targets(result: EvalResult) -> list[TargetCheck]:
    """The targets of issue 3 (dev set, embedded defaults, 2 cores) against this run."""
    scores = result.overall
    distractors = result.info.distractor_documents
    hit_bound = 0.90 if distractors >= MIN_DISTRACTORS_FOR_SCALED_TARGET else 0.95
    hit_name = "retrieval hit@5" + (f" ({distractors:,} distractors)" if distractors else "")
    return [
        _ratio_target("correctness", scores.correctness, 0.85),
        _ratio_target("refusal accuracy", scores.refusal_accuracy, 0.90),
        _ratio_target("false refusals", scores.false_refusals, 0.05, at_most=True),
        _ratio_target("citation accuracy", scores.citation_accuracy, 0.95),
        _ratio_target("faithfulness", scores.faithfulness, 0.97),
        _ratio_target(hit_name, scores.hit_at_5, hit_bound),
        _latency_target("total latency", result.latency.total_ms, 3000),
        _latency_target("time to first token", result.latency.first_token_ms, 1500),
    ]


# --- formatting --------------------------------------------------------------------------


def _pct(ratio: Ratio) -> str:
    value = ratio.value
    return "—" if value is None else f"{value:.1%} ({ratio.hits}/{ratio.total})"


def _secs(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


def _mrr(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _load(machine: MachineInfo) -> str:
    if machine.load_average is None:
        return "unknown"
    return " / ".join(f"{v:.2f}" for v in machine.load_average) + f" on {machine.cores} cores"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


_OVERALL: list[tuple[str, Callable[[Scores], str]]] = [
    ("correctness (answerable items)", lambda s: _pct(s.correctness)),
    ("refusal accuracy (unanswerable items)", lambda s: _pct(s.refusal_accuracy)),
    ("false refusals (answerable items)", lambda s: _pct(s.false_refusals)),
    ("citation accuracy (answered, answerable)", lambda s: _pct(s.citation_accuracy)),
    ("multi_doc: second evidence (evidence2) cited", lambda s: _pct(s.evidence2_cited)),
    ("faithfulness (supported sentences)", lambda s: _pct(s.faithfulness)),
    ("retrieval hit@1", lambda s: _pct(s.hit_at_1)),
    ("retrieval hit@5", lambda s: _pct(s.hit_at_5)),
    ("retrieval MRR", lambda s: _mrr(s.mrr)),
]

_PER_KIND: list[tuple[str, Callable[[Scores], str]]] = [
    ("items", lambda s: str(s.items)),
    ("correct", lambda s: _pct(s.correctness)),
    ("refusal acc.", lambda s: _pct(s.refusal_accuracy)),
    ("false refusals", lambda s: _pct(s.false_refusals)),
    ("citation acc.", lambda s: _pct(s.citation_accuracy)),
    ("faithfulness", lambda s: _pct(s.faithfulness)),
    ("hit@1", lambda s: _pct(s.hit_at_1)),
    ("hit@5", lambda s: _pct(s.hit_at_5)),
    ("MRR", lambda s: _mrr(s.mrr)),
]


def _target_rows(result: EvalResult) -> list[list[str]]:
    marks = {True: "yes", False: "**no**", None: "n/a"}
    return [[t.name, t.target, t.measured, marks[t.met], t.gap] for t in evaluate_targets(result)]


def _latency_rows(result: EvalResult) -> list[list[str]]:
    named = [
        ("retrieve", result.latency.retrieve_ms),
        ("generate", result.latency.generate_ms),
        ("total", result.latency.total_ms),
        ("time to first token", result.latency.first_token_ms),
    ]
    return [[name, str(p.n), _secs(p.p50), _secs(p.p95)] for name, p in named]


def _quoted(text: str) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in text.splitlines() or [""]]


def _failure_section(item: ItemResult) -> list[str]:
    checks = ", ".join(dict.fromkeys(f.check for f in item.failures))
    lines = [f"### {item.id} ({item.kind}) — failed: {checks}", ""]
    if item.history:
        lines += [f"- earlier {turn.role}: {turn.content}" for turn in item.history] + [""]
    lines += [f"**Question:** {item.question}", "", f"**Reference:** {item.reference}", ""]
    label = "**Answer (refused):**" if item.refused else "**Answer:**"
    lines += [label, "", *_quoted(item.answer or "(no answer)"), "", "**Failed checks:**", ""]
    lines += [f"- {f.check}: {f.detail}" for f in item.failures]
    if item.citations:
        lines += ["", "**Citations:**", ""]
        lines += [f"- [{c.n}] {c.source} ({c.chunk_id}): “{c.quote}”" for c in item.citations]
    if item.retrieval_scored:
        rank = item.retrieval_rank
        where = f"rank {rank}" if rank is not None else "not among the retrieved passages"
        lines += ["", f"**Evidence** “{item.evidence}”: {where}."]
    if item.retrieved and {"retrieval", "citation"} & {f.check for f in item.failures}:
        ranked = ", ".join(f"{i}. {r.chunk_id}" for i, r in enumerate(item.retrieved, start=1))
        lines += ["", f"**Retrieved:** {ranked}"]
    lines.append("")
    return lines


def render_markdown(
    result: EvalResult, *, title: str, machine_info: MachineInfo, list_items: bool = True
) -> str:
    """The human-readable report; `list_items=False` leaves out the failed items' text."""
    info = result.info
    corpus = f"{info.corpus_documents:,} documents, {info.corpus_chunks:,} chunks"
    if info.distractor_documents:
        corpus += f" (of which {info.distractor_documents:,} distractor documents)"
    if info.index_seconds is not None:
        corpus += f"; indexed for this run in {info.index_seconds / 60:.1f} min"
    lines = [
        f"# {title}",
        "",
        f"- Date: {info.started:%Y-%m-%d %H:%M} UTC (run took {info.seconds:.0f} s)",
        f"- Question file: {info.dataset} ({len(result.items)} items)",
        f"- Backend: {info.backend}; chat model: {info.chat_model}; "
        f"embedding model: {info.embedding_model}; top_k: {info.top_k}; "
        f"LLM threads: {info.llm_threads}",
        f"- Corpus: {corpus}",
        f"- Machine: {machine_info.cpu_model}, {machine_info.cores} cores, "
        f"{machine_info.ram_gb:g} GB RAM, Python {machine_info.python}, {machine_info.platform}",
        f"- Load average (1/5/15 min) when the report was written: {_load(machine_info)}",
        "",
        "## Targets (issue 3)",
        "",
        *_table(["metric", "target", "measured", "met", "note"], _target_rows(result)),
        "",
        "## Overall",
        "",
        *_table(["metric", "value"], [[name, fmt(result.overall)] for name, fmt in _OVERALL]),
        "",
        "## Per kind",
        "",
        *_table(
            ["kind", *(name for name, _ in _PER_KIND)],
            [[k, *(fmt(s) for _, fmt in _PER_KIND)] for k, s in result.by_kind.items()],
        ),
        "",
        "## Latency",
        "",
        *_table(["timing", "n", "p50", "p95"], _latency_rows(result)),
        "",
    ]
    failed = [item for item in result.items if not item.passed]
    lines += [f"## Failures ({len(failed)} of {len(result.items)} items)", ""]
    if not list_items:
        return "\n".join([*lines, HIDDEN_NOTE, ""])
    for item in failed:
        lines += _failure_section(item)
    if not failed:
        lines += ["Every item passed every check.", ""]
    return "\n".join(lines)


def render_summary(result: EvalResult) -> str:
    """A compact plain-text summary for the terminal: targets, then per-kind correctness."""
    verdicts = {True: "met", False: "MISSED", None: "n/a"}
    rows = [
        f"{t.name:<40} {t.measured:<22} target {t.target:<14} {verdicts[t.met]:<6} {t.gap}".rstrip()
        for t in evaluate_targets(result)
    ]
    rows.append(f"{'retrieval hit@1':<40} {_pct(result.overall.hit_at_1)}")
    rows.append(f"{'retrieval MRR':<40} {_mrr(result.overall.mrr)}")
    rows.append("")
    for kind, scores in result.by_kind.items():
        main = scores.refusal_accuracy if scores.correctness.total == 0 else scores.correctness
        rows.append(f"  {kind:<14} {scores.items:>3} items  {_pct(main)}")
    return "\n".join(rows)


def report_stem(result: EvalResult) -> str:
    """File name (without suffix) for a run: question file, backend and distractor count."""
    dataset = Path(result.info.dataset).stem or "eval"
    stem = f"{dataset}-{result.info.backend}"
    if result.info.distractor_documents:
        stem += f"-distractors{result.info.distractor_documents}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)


def lists_items(result: EvalResult) -> bool:
    """Whether a run's reports may show its items: not for the held-out split."""
    return Path(result.info.dataset).stem not in UNLISTED_SETS


def write_report(
    result: EvalResult, out_dir: Path, *, title: str, machine_info: MachineInfo
) -> tuple[Path, Path]:
    """Write `<stem>.md` and `<stem>.json` into `out_dir` (created if needed).

    Reports of the held-out split carry its scores only: no question, answer or failed check
    of any item, so that nobody fixes a rule by reading one (eval/README.md).

    Returns:
        (markdown path, json path).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(result)
    md_path = out_dir / f"{stem}.md"
    json_path = out_dir / f"{stem}.json"
    md_path.write_text(
        render_markdown(
            result, title=title, machine_info=machine_info, list_items=lists_items(result)
        ),
        encoding="utf-8",
    )
    payload = {
        "title": title,
        "machine": machine_info.model_dump(mode="json"),
        "targets": [t.model_dump() for t in evaluate_targets(result)],
        **result.model_dump(mode="json", exclude=None if lists_items(result) else {"items"}),
    }
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return md_path, json_path
