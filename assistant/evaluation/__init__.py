"""The evaluation harness: runs a question file through the answer path and measures it.

`items` reads and validates the JSONL question files, `metrics` holds the pure scoring
functions (correctness, refusals, citations, faithfulness, retrieval, latency), `grading`
applies them to one item, `harness` runs the items through `service.ask`, `report` writes
the Markdown and JSON reports and `cli` is `python -m assistant eval`.
"""

from assistant.evaluation.harness import run_eval
from assistant.evaluation.items import EvalItem, load_items, parse_items
from assistant.evaluation.report import MachineInfo, collect_machine_info, write_report
from assistant.evaluation.results import EvalResult

__all__ = [
    "EvalItem",
    "EvalResult",
    "MachineInfo",
    "collect_machine_info",
    "load_items",
    "parse_items",
    "run_eval",
    "write_report",
]
