"""The answer stage: from retrieved chunks to a verified, cited answer.

- `questions`: reading the question (its language, what it asks for, its terms and parts).
- `features`, `scorer`: describing candidate sentences and scoring them with fitted weights
  (`training` fits them on SQuAD; `calibrate` sets the refusal threshold on the tune split).
- `evidence`: gathering candidate sentences, scoring them, deciding whether the sources answer.
- `compose`, `wording`: the shape of the answer (lead sentence, list, comparison, scope reply,
  refusal) and the assistant's own words in the question's language.
- `answerer`: the pipeline, streamed sentence by sentence.
- `verification`: checking every shown sentence against the passages it cites.
- `prompts`: every word the chat model is told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answering.answerer import Answerer, Passage, retrieved_for_display

__all__ = ["Answerer", "Passage", "retrieved_for_display"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that the light parts (question reading, the scorer, training)
    # load without the chat stack.
    if name in __all__:
        from assistant.answering import answerer

        return getattr(answerer, name)
    raise AttributeError(name)
