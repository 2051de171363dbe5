"""The HTTP API against the real pipeline: real MiniLM, real embedded Chroma holding the
project corpus, extractive answers (the local model where the model itself matters)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import service
from assistant.api import create_app
from assistant.api.schemas import AnswerOut
from assistant.serialization import answer_json
from tests.api.conftest import live_server, resources_with

QUESTION = "What is the mandate of CPMR?"
ALLOWED = "https://www.alatoo.example"


def _events(lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) pairs of an SSE body."""
    events, name = [], "message"
    for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check an error response's status, code and request id; return its error object."""
    assert response.status_code == status, (
        f"expected {status} {code}, got {response.status_code}: {response.text[:300]}"
    )
    error = response.json()["error"]
    assert error["code"] == code, f"expected error code {code}: {error}"
    assert error["request_id"] and error["request_id"] == response.headers["x-request-id"], (
        f"the error must carry the request id of its X-Request-ID header: {error}"
    )
    assert "Traceback" not in response.text and "/work" not in response.text, (
        f"no traceback or server path may reach a client: {response.text}"
    )
    return dict(error)


# -- answers -----------------------------------------------------------------------------------


def test_chat_returns_the_ask_json_answer(api_resources):
    with TestClient(create_app(resources=api_resources)) as client:
        response = client.post("/api/chat", json={"message": QUESTION, "lang": "en"})
    assert response.status_code == 200, response.text
    body = response.json()
    AnswerOut.model_validate(body)  # the documented schema, field for field
    direct = answer_json(service.ask(QUESTION, resources=api_resources))
    for key in ("question", "answer", "refused", "citations", "sentences", "backend"):
        assert body[key] == direct[key], f"the API's {key!r} must be what ask --json prints"
    assert not body["refused"] and body["citations"], f"CPMR's mandate is in the corpus: {body}"
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers == {c["n"] for c in body["citations"]}, (
        f"every [n] in the answer must have its numbered source: {markers} vs {body['citations']}"
    )


def test_stream_sends_status_then_sentences_then_the_answer(api_resources):
    with (
        TestClient(create_app(resources=api_resources)) as client,
        client.stream("POST", "/api/chat/stream", json={"message": QUESTION}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(list(response.iter_lines()))
    names = [name for name, _ in events]
    assert names[0] == "status" and names[-1] == "answer", f"event order: {names}"
    first_sentence = names.index("sentence")
    assert set(names[:first_sentence]) == {"status"}, f"status events come first: {names}"
    assert set(names[first_sentence:-1]) == {"sentence"}, f"then only sentences: {names}"
    answer = events[-1][1]
    AnswerOut.model_validate(answer)
    streamed = "".join(data["text"] for name, data in events if name == "sentence")
    assert streamed.strip() == answer["answer"].strip(), (
        "the sentences streamed must add up to the final answer"
    )
    assert answer["citations"] and "refused" in answer, "the final event carries the sources"


def test_openapi_schema_describes_every_body(api_resources):
    with TestClient(create_app(resources=api_resources)) as client:
        schema = client.get("/openapi.json").json()
    components = set(schema["components"]["schemas"])
    assert {"ChatRequest", "AnswerOut", "HealthOut", "ErrorOut"} <= components, components
    assert "/api/chat/stream" in schema["paths"] and "/api/health" in schema["paths"]


# -- sizes and shapes ----------------------------------------------------------------------------


def test_oversized_and_malformed_bodies_get_clear_4xx(resources):
    res = resources_with(
        resources, rate_limit="1000/minute", max_body_bytes=4096, max_turns=2,
        max_history_bytes=1000,
    )  # fmt: skip
    limit = res.settings.limits.max_question_chars
    turn = {"role": "user", "content": "Tell me about CPMR."}
    with TestClient(create_app(resources=res)) as client:
        big = client.post("/api/chat", content=b'{"message": "' + b"a" * 5000 + b'"}')
        _error(big, 413, "body_too_large")
        long = client.post("/api/chat", json={"message": "why " * (limit // 4 + 1)})
        assert str(limit) in _error(long, 413, "message_too_long")["message"]
        turns = client.post("/api/chat", json={"message": QUESTION, "history": [turn] * 3})
        _error(turns, 413, "history_too_long")
        heavy = [{"role": "user", "content": "x" * 600}] * 2
        _error(client.post("/api/chat", json={"message": QUESTION, "history": heavy}), 413,
               "history_too_large")  # fmt: skip
        _error(client.post("/api/chat", content=b'{"message": '), 422, "invalid_request")
        _error(client.post("/api/chat", json={"history": []}), 422, "invalid_request")
        bad_role = {"message": QUESTION, "history": [{"role": "system", "content": "x"}]}
        _error(client.post("/api/chat", json=bad_role), 422, "invalid_request")
        _error(client.post("/api/chat", json={"message": "   "}), 422, "invalid_question")


def test_a_message_asking_too_many_things_is_refused(resources):
    res = resources_with(resources, rate_limit="1000/minute")
    most = res.settings.limits.max_question_parts
    parts = [
        "when was the centre founded",
        "who leads the research centre",
        "what does the centre offer students",
        "where does the centre hold its seminars",
    ][: most + 1]
    message = ", and ".join(parts) + "?"
    with TestClient(create_app(resources=res)) as client:
        error = _error(client.post("/api/chat", json={"message": message}), 422,
                       "invalid_question")  # fmt: skip
    assert f"at most {most}" in error["message"], error


# -- who may ask -------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(resources):
    res = resources_with(resources, rate_limit="2/minute")
    with TestClient(create_app(resources=res)) as client:
        for _ in range(2):
            assert client.post("/api/chat", json={"message": QUESTION}).status_code == 200
        third = client.post("/api/chat", json={"message": QUESTION})
        _error(third, 429, "rate_limited")
        assert 0 < int(third.headers["retry-after"]) <= 60, third.headers
        assert client.get("/api/health").status_code == 200, "health is never rate limited"


def test_cors_allows_listed_origins_and_refuses_others(resources):
    res = resources_with(resources, rate_limit="1000/minute", allowed_origins=ALLOWED + "/")
    preflight = {"access-control-request-method": "POST",
                 "access-control-request-headers": "content-type"}  # fmt: skip
    with TestClient(create_app(resources=res)) as client:
        ok = client.options("/api/chat", headers={"origin": ALLOWED, **preflight})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
        answered = client.post("/api/chat", json={"message": QUESTION}, headers={"origin": ALLOWED})
        assert answered.status_code == 200, answered.text
        assert answered.headers["access-control-allow-origin"] == ALLOWED

        evil = "https://evil.example"
        refused = client.options("/api/chat", headers={"origin": evil, **preflight})
        assert "access-control-allow-origin" not in refused.headers, refused.headers
        # A "simple" request skips the preflight; the server refuses it itself.
        sneaky = client.post(
            "/api/chat/stream",
            content=json.dumps({"message": QUESTION}),
            headers={"origin": evil, "content-type": "text/plain"},
        )
        _error(sneaky, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in sneaky.headers


def test_no_origin_is_allowed_by_default_but_the_apis_own(resources):
    res = resources_with(resources, rate_limit="1000/minute")
    with TestClient(create_app(resources=res), base_url="http://api.test") as client:
        own = client.post("/api/chat", json={"message": QUESTION},
                          headers={"origin": "http://api.test"})  # fmt: skip
        assert own.status_code == 200, "the API's own demo page may ask"
        other = client.post("/api/chat", json={"message": QUESTION},
                            headers={"origin": ALLOWED})  # fmt: skip
        _error(other, 403, "origin_not_allowed")
        assert "/widget.js" in client.get("/").text, "the demo page embeds the widget"
        widget = client.get("/widget.js")
        assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]


# -- back-pressure and robustness ----------------------------------------------------------------


def test_503_with_retry_after_while_models_load(resources):
    gate = threading.Event()

    def slow_loader(_settings: Any) -> Any:
        gate.wait(60)
        return resources

    app = create_app(resources.settings, loader=slow_loader)
    with TestClient(app) as client:
        health = client.get("/api/health")
        assert health.status_code == 503 and health.json()["status"] == "loading", health.text
        loading = client.post("/api/chat", json={"message": QUESTION})
        _error(loading, 503, "loading")
        assert int(loading.headers["retry-after"]) > 0
        gate.set()
        deadline = time.monotonic() + 30
        while client.get("/api/health").status_code != 200:
            assert time.monotonic() < deadline, "the API must become ready once loaded"
            time.sleep(0.1)
        assert client.post("/api/chat", json={"message": QUESTION}).status_code == 200


def test_503_when_the_queue_is_full_and_health_still_answers(resources):
    res = resources_with(resources, rate_limit="1000/minute", concurrency=1, queue=1)
    app = create_app(resources=res)
    pool = app.state.api.pool
    with TestClient(app) as client:
        held = [pool.reserve(), pool.reserve()]  # every place taken, as by two slow answers
        full = client.post("/api/chat", json={"message": QUESTION})
        _error(full, 503, "busy")
        assert int(full.headers["retry-after"]) == res.settings.api.retry_after
        health = client.get("/api/health")
        assert health.status_code == 200 and health.json()["busy"] == 2, health.text
        for slot in held:
            slot.release()
        assert client.post("/api/chat", json={"message": QUESTION}).status_code == 200


@pytest.mark.slow
def test_model_lock_timeout_and_disconnect_free_the_slot(local_resources):
    """With the real local model: a request stuck behind a busy model gets 503 within the lock
    timeout, and a client that leaves mid-stream gives its slot back."""
    res = resources_with(local_resources, rate_limit="1000/minute", concurrency=1, queue=0)
    model = res.backend.model
    app = create_app(resources=res)
    pool = app.state.api.pool
    saved_timeout = model.lock_timeout
    model.lock_timeout = 1.0
    try:
        with live_server(app) as url:
            assert model._lock.acquire(timeout=30), "the model should be free at the start"
            try:
                started = time.monotonic()
                stuck = httpx.post(f"{url}/api/chat", json={"message": QUESTION}, timeout=60)
                waited = time.monotonic() - started
            finally:
                model._lock.release()
            _error(stuck, 503, "timeout")
            assert waited < 20, f"a busy model must be reported within its lock timeout: {waited}"

            with httpx.stream("POST", f"{url}/api/chat/stream", json={"message": QUESTION},
                              timeout=60) as response:  # fmt: skip
                assert response.status_code == 200
                lines = response.iter_lines()
                first = next(lines)
                assert first.startswith("event:"), first
                assert pool.in_use == 1, "the stream holds the only slot"
            deadline = time.monotonic() + 10
            while pool.in_use:
                assert time.monotonic() < deadline, "a client that left must free its slot"
                time.sleep(0.05)
            # The freed slot takes the next question (after the abandoned answer stopped).
            after = httpx.post(f"{url}/api/chat", json={"message": QUESTION}, timeout=120)
            assert after.status_code == 200, after.text
    finally:
        model.lock_timeout = saved_timeout


def test_hung_chat_server_gives_503_within_the_timeout(resources):
    """The openai backend against a server that accepts and never answers."""
    from tests.servers import SilentServer

    with SilentServer() as silent:
        llm = resources.settings.llm.model_copy(
            update={"backend": "openai", "base_url": f"http://127.0.0.1:{silent.port}/v1",
                    "timeout": 1.0, "connect_timeout": 1.0}
        )  # fmt: skip
        from assistant.llm import load_chat_backend

        settings = resources.settings.model_copy(update={"llm": llm})
        res = resources_with(
            dataclasses.replace(
                resources, settings=settings, backend=load_chat_backend(llm, threads=1)
            ),
            rate_limit="1000/minute",
        )
        with TestClient(create_app(resources=res)) as client:
            started = time.monotonic()
            response = client.post("/api/chat", json={"message": QUESTION})
            waited = time.monotonic() - started
            with client.stream("POST", "/api/chat/stream", json={"message": QUESTION}) as stream:
                events = _events(list(stream.iter_lines()))
    _error(response, 503, "timeout")
    assert waited < 10, f"a hung chat server must be reported within its timeout: {waited:.1f} s"
    names = [name for name, _ in events]
    assert names[0] == "status" and names[-1] == "error", f"a failed stream ends in error: {names}"
    failure = events[-1][1]
    assert failure["status"] == 503 and failure["code"] == "timeout" and failure["request_id"], (
        f"the error event says what happened and carries the request id: {failure}"
    )


@pytest.mark.server
def test_hung_store_gives_503_within_the_timeout_and_others_are_served(
    tmp_path, resources, embedder
):
    """A real Chroma server behind a proxy that goes silent mid-life, like a hung server."""
    import shutil

    from assistant.config import PathSettings, StoreSettings
    from tests.conftest import CORPUS, make_settings
    from tests.servers import SilentServer, start_chroma_server, stop

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "centre", corpus / "centre")  # one small document is enough
    process, port = start_chroma_server(tmp_path)
    try:
        with SilentServer(forward_to=port) as proxy:
            store = StoreSettings(host="127.0.0.1", port=proxy.port, server_timeout=1.5,
                                  server_connect_timeout=1.0)  # fmt: skip
            settings = make_settings(tmp_path).model_copy(update={"store": store})
            settings = settings.model_copy(
                update={"paths": PathSettings(corpus_dir=corpus, chroma_dir=tmp_path / "unused",
                                              feedback_db=tmp_path / "f.sqlite3")}
            )  # fmt: skip
            from assistant.retrieval import HybridRetriever
            from assistant.store import open_store

            remote = open_store(settings, embedder.model_id, embedder.dimension)
            res = service.Resources(
                settings, embedder, remote, HybridRetriever(remote, embedder, settings.retrieval)
            )
            assert service.build_index(resources=res).ok, "indexing through the proxy works"
            res = resources_with(res, rate_limit="1000/minute")
            app = create_app(resources=res)
            with live_server(app) as url:
                ok = httpx.post(f"{url}/api/chat", json={"message": QUESTION}, timeout=30)
                assert ok.status_code == 200, f"before the hang the store answers: {ok.text}"
                proxy.hang()
                result: dict[str, Any] = {}

                def ask() -> None:
                    started = time.monotonic()
                    result["response"] = httpx.post(
                        f"{url}/api/chat", json={"message": QUESTION}, timeout=60
                    )
                    result["waited"] = time.monotonic() - started

                asker = threading.Thread(target=ask)
                asker.start()
                time.sleep(0.3)
                started = time.monotonic()
                health = httpx.get(f"{url}/api/health", timeout=30)
                health_waited = time.monotonic() - started
                asker.join(60)
            assert health_waited < 5, f"health must answer while a request hangs: {health_waited}"
            assert health.json()["store"] is False, f"health reports the hung store: {health.text}"
            _error(result["response"], 503, "timeout")
            assert result["waited"] < 15, f"reported within the timeout: {result['waited']:.1f} s"
    finally:
        stop(process)


def test_streamlit_keeps_xsrf_protection_for_iframes():
    import tomllib

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"].get("enableXsrfProtection", True) is True, (
        "XSRF protection must stay on: the app may be embedded in other sites' iframes"
    )
