"""The answer stage: from retrieved chunks to a verified, cited answer.

- `questions`: reading the question (what it asks for, its key terms, its parts).
- `evidence`: gathering and scoring candidate sentences, deciding whether the sources answer.
- `answerer`: composing the answer (quoting or letting a model write) and streaming it.
- `verification`: checking every shown sentence against the passages it cites.
- `prompts`: every word the chat model is told.
"""

from assistant.answering.answerer import Answerer, Passage, retrieved_for_display

__all__ = ["Answerer", "Passage", "retrieved_for_display"]
