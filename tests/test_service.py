"""The service layer's own small rules (the pipeline behind it is tested module by module)."""

from assistant.service import recent_turns
from assistant.types import ChatTurn


def test_zero_history_turns_sends_no_history():
    history = [
        ChatTurn(role="user", content="What is CPMR?"),
        ChatTurn(role="assistant", content="A centre."),
    ]
    assert recent_turns(history, 0) == (), "ASSISTANT_MAX_HISTORY_TURNS=0 must send no history"
    assert recent_turns(history, 1) == (history[-1],), "a limit keeps the most recent turns"
    assert recent_turns(history, 8) == tuple(history), "a large limit keeps every turn"
