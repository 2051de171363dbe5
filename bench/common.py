"""What every benchmark writes beside its figures: the machine, the date, the versions.

A figure without the machine it was measured on (and how busy that machine was) cannot be
compared with another; the versions say which engines produced it.
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Built stores and generated corpora are large and hold publishers' texts: never in the repo.
WORK = Path.home() / ".cache" / "cpmr-assistant" / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Imported when the benchmark starts, not when it ends: a long run must not fail at the last
# step because the working tree changed under it.
from assistant.evaluation.report import collect_machine_info  # noqa: E402

PACKAGES = (
    "chromadb",
    "sentence-transformers",
    "torch",
    "transformers",
    "onnxruntime",
    "optimum",
    "optimum-onnx",
    "bm25s",
    "llama_cpp_python",
    "numpy",
)


def versions() -> dict[str, str]:
    """Installed versions of the engines the figures depend on, and the repo's commit."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        found["commit"] = commit
    except (OSError, subprocess.CalledProcessError):
        pass
    return found


def machine() -> dict[str, Any]:
    info = collect_machine_info().model_dump()
    info["hostname"] = platform.node()
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far: Linux's VmHWM, which starts afresh at
    exec. `ru_maxrss` does not: a child started by a process holding a large store reports at
    least the parent's memory at the fork (a 10k-chunk measurement read 1.5 GB that way)."""
    found = _status_mb("VmHWM:")
    if found is not None:
        return found
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    """Resident memory of this process now."""
    found = _status_mb("VmRSS:")
    return found if found is not None else peak_rss_mb()


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (kB) in MB; None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.5), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1) if values else 0.0,
        "n": len(values),
    }


def write_result(name: str, figures: dict[str, Any], notes: list[str] | None = None) -> Path:
    """Write bench/results/<date>-<host>-<name>.json and .md; returns the .md path."""
    print(json.dumps({"benchmark": name, "figures": figures}, default=str), flush=True)
    stamp = datetime.now(UTC)
    host = machine()
    record = {
        "benchmark": name,
        "date": stamp.isoformat(timespec="seconds"),
        "machine": host,
        "versions": versions(),
        "figures": figures,
        "notes": notes or [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = RESULTS / f"{stamp:%Y-%m-%d}-{host['hostname']}-{name}"
    base.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    lines = [f"# {name}: {stamp:%Y-%m-%d %H:%M} UTC", ""]
    lines += ["| machine | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in host.items()]
    lines += ["", "| version | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in record["versions"].items()]
    lines += ["", "| figure | value |", "| --- | --- |", *_rows(figures)]
    if notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    md = base.with_suffix(".md")
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md


def _rows(figures: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for key, value in figures.items():
        if isinstance(value, dict):
            rows += _rows(value, f"{prefix}{key}.")
        else:
            rows.append(f"| {prefix}{key} | {value} |")
    return rows
