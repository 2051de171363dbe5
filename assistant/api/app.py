"""The FastAPI application: thin routes over `assistant.service`, guarded for the public.

Routes: `POST /api/chat` (one JSON answer, the `ask --json` object), `POST /api/chat/stream`
(the same as Server-Sent Events: `status`, `sentence`..., then `answer`), `GET /api/health`,
`GET /widget.js` (the embeddable widget) and `GET /` (a demo page that embeds it). FastAPI
serves the OpenAPI schema at `/openapi.json` and `/docs`.

Models load once, in a background thread at start-up, so the server answers health checks
(and 503 with Retry-After) while they load. Every error reaches the client as
`{"error": {"code", "message", "request_id"}}`; the request id is logged with the details,
and no traceback or server path is ever sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import service
from assistant.api.guards import BodySizeLimit, OriginPolicy, RateLimiter, parse_origins
from assistant.api.pool import AnswerPool, PoolFullError, Slot
from assistant.api.schemas import AnswerOut, ChatRequest, ErrorOut, HealthOut
from assistant.config import Settings, load_settings
from assistant.errors import (
    AssistantError,
    IndexNotBuiltError,
    InputError,
    StoreError,
    UnavailableError,
)
from assistant.serialization import answer_json, sentence_json
from assistant.types import AnswerEvent, ChatTurn, SentenceEvent, StatusEvent, StreamEvent

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# How long a health check waits for the store before reporting it unavailable.
HEALTH_STORE_TIMEOUT_S = 2.0
SSE_PING_S = 15

Loader = Callable[[Settings], service.Resources]


class ApiError(Exception):
    """An error the API answers with on purpose: status, stable code, message for people."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass
class ApiState:
    """What every request of one server process shares."""

    settings: Settings
    pool: AnswerPool
    limiter: RateLimiter
    origins: OriginPolicy
    resources: service.Resources | None = None
    load_failure: str | None = None
    loaded: threading.Event = field(default_factory=threading.Event)


def _default_loader(settings: Settings) -> service.Resources:
    return service.load_resources(settings)


def create_app(
    settings: Settings | None = None,
    *,
    resources: service.Resources | None = None,
    loader: Loader | None = None,
) -> FastAPI:
    """Build the API.

    Args:
        settings: defaults to the environment's (`load_settings`).
        resources: already loaded resources (tests, or an app that has them); otherwise
            `loader` loads them in a background thread when the app starts.
        loader: how to load resources; defaults to `service.load_resources`.
    """
    settings = settings or (resources.settings if resources else load_settings())
    api = settings.api
    state = ApiState(
        settings=settings,
        pool=AnswerPool(api.concurrency, api.queue),
        limiter=RateLimiter(api.rate_limit),
        origins=OriginPolicy(parse_origins(api.allowed_origins)),
        resources=resources,
    )
    if resources is not None:
        state.loaded.set()
    load = loader or _default_loader

    def load_in_background() -> None:
        try:
            state.resources = load(settings)
            log.info("models and store loaded; the API is ready")
        except AssistantError as exc:
            state.load_failure = str(exc)
            log.error("cannot start answering: %s", exc)
        except Exception:
            state.load_failure = "unexpected failure while loading"
            log.exception("cannot start answering")
        finally:
            state.loaded.set()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state.resources is None:
            threading.Thread(target=load_in_background, name="load", daemon=True).start()
        yield
        state.pool.shutdown()

    app = FastAPI(
        title="CPMR Assistant API",
        summary="Grounded, cited answers about CPMR and medical-university partnerships.",
        version="1.0",
        lifespan=lifespan,
        responses={
            413: {"model": ErrorOut},
            422: {"model": ErrorOut},
            429: {"model": ErrorOut},
            503: {"model": ErrorOut},
        },
    )
    app.state.api = state
    _install_error_handlers(app)

    # Middleware: the last added runs first. Request ids wrap everything, so even a 413
    # from the size limit carries one; CORS answers preflights before any limit applies.
    app.add_middleware(BodySizeLimit, max_bytes=api.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(state.origins.allowed),
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        expose_headers=["x-request-id", "retry-after"],
        max_age=600,
    )
    app.add_middleware(RequestId)

    @app.get("/api/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
    async def health() -> JSONResponse:
        """Whether models and store are ready; answers even while every worker is busy."""
        resources = state.resources
        store_ok = False
        if resources is not None:
            try:
                await asyncio.wait_for(
                    asyncio.to_thread(resources.store.count), HEALTH_STORE_TIMEOUT_S
                )
                store_ok = True
            except (AssistantError, TimeoutError):
                store_ok = False
        if resources is not None and store_ok:
            status = "ready"
        elif not state.loaded.is_set():
            status = "loading"
        else:
            status = "unavailable"
        body = HealthOut(
            status=status,
            models=resources is not None,
            store=store_ok,
            busy=state.pool.in_use,
            capacity=state.pool.capacity,
        )
        headers = {} if status == "ready" else {"Retry-After": str(api.retry_after)}
        return JSONResponse(
            body.model_dump(), status_code=200 if status == "ready" else 503, headers=headers
        )

    @app.post("/api/chat", response_model=AnswerOut, dependencies=[Depends(_check_caller)])
    async def chat(body: ChatRequest, request: Request) -> dict[str, Any]:
        """Answer one message with the conversation so far: the `ask --json` object."""
        resources, history, slot = _admit(state, body, request)
        try:
            answer = await state.pool.run(
                slot, lambda: service.ask(body.message, history=history, resources=resources)
            )
        except AssistantError as exc:
            raise _translate(exc, api.retry_after) from exc
        return answer_json(answer)

    @app.post(
        "/api/chat/stream",
        response_class=EventSourceResponse,
        dependencies=[Depends(_check_caller)],
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def chat_stream(body: ChatRequest, request: Request) -> EventSourceResponse:
        """The same answer as Server-Sent Events: `status` events, one `sentence` event per
        verified sentence as it is ready, then one `answer` event (the `ask --json` object,
        with citations and `refused`). A failure after the stream began is an `error` event."""
        resources, history, slot = _admit(state, body, request)
        request_id = _request_id(request)

        def produce() -> Any:
            return service.ask_stream(body.message, history=history, resources=resources)

        async def events() -> AsyncIterator[dict[str, str]]:
            try:
                async for event in state.pool.stream(slot, produce):
                    yield _sse(event)
            except AssistantError as exc:
                error = _translate(exc, api.retry_after)
                log.warning("request %s failed mid-stream: %s", request_id, exc)
                yield _sse_error(error, request_id)
            except Exception:
                log.exception("request %s failed mid-stream", request_id)
                yield _sse_error(_internal(), request_id)

        return _SlotEventSource(slot, events(), ping=SSE_PING_S)

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        return FileResponse(
            STATIC / "widget.js",
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/", include_in_schema=False)
    async def demo() -> FileResponse:
        return FileResponse(STATIC / "demo.html", media_type="text/html; charset=utf-8")

    return app


# -- admission ---------------------------------------------------------------------------


async def _check_caller(request: Request) -> None:
    """Who may ask: the page's origin, then the client's rate. A route dependency, so it runs
    before the body is validated: a refused page learns nothing about its request."""
    state: ApiState = request.app.state.api
    own_origin = f"{request.url.scheme}://{request.url.netloc}"
    if not state.origins.permits(request.headers.get("origin"), own_origin):
        log.info("refused origin %r", request.headers.get("origin"))
        raise ApiError(
            403,
            "origin_not_allowed",
            "This site is not allowed to use the assistant (see ASSISTANT_ALLOWED_ORIGINS).",
        )
    client = request.client.host if request.client else "unknown"
    wait = state.limiter.hit(client)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many questions from this address; try again in {wait} s.",
            retry_after=wait,
        )


def _admit(
    state: ApiState, body: ChatRequest, request: Request
) -> tuple[service.Resources, list[ChatTurn], Slot]:
    """The checks after the caller's: is the request acceptable (sizes), is there room
    (models ready, a free place in the pool). Raises ApiError."""
    settings = state.settings
    limit = settings.limits.max_question_chars
    if len(body.message) > limit:
        raise ApiError(
            413,
            "message_too_long",
            f"The message is {len(body.message)} characters long; the limit is {limit}.",
        )
    if len(body.history) > settings.api.max_turns:
        raise ApiError(
            413,
            "history_too_long",
            f"The conversation has {len(body.history)} earlier turns; the limit is "
            f"{settings.api.max_turns}. Start a new chat.",
        )
    history_bytes = sum(len(turn.content.encode("utf-8")) for turn in body.history)
    if history_bytes > settings.api.max_history_bytes:
        raise ApiError(
            413,
            "history_too_large",
            f"The conversation is {history_bytes} bytes long; the limit is "
            f"{settings.api.max_history_bytes}. Start a new chat.",
        )
    resources = state.resources
    if resources is None:
        if state.loaded.is_set():
            raise ApiError(
                503,
                "unavailable",
                "The assistant could not start; the operators have been told.",
                retry_after=settings.api.retry_after * 6,
            )
        raise ApiError(
            503,
            "loading",
            "The assistant is starting up; try again in a few seconds.",
            retry_after=settings.api.retry_after,
        )
    try:
        slot = state.pool.reserve()
    except PoolFullError:
        raise ApiError(
            503,
            "busy",
            "The assistant is answering as many questions as it can; try again shortly.",
            retry_after=settings.api.retry_after,
        ) from None
    log.info("chat request %s (lang=%s)", _request_id(request), body.lang or "-")
    return resources, [turn.to_turn() for turn in body.history], slot


# -- errors ------------------------------------------------------------------------------


def _translate(exc: AssistantError, retry_after: int) -> ApiError:
    """An AssistantError as the API's answer. Only InputError messages are shown as they are:
    the others may name server paths or addresses, so clients get a fixed message."""
    if isinstance(exc, InputError):
        return ApiError(422, "invalid_question", str(exc))
    if isinstance(exc, UnavailableError):
        log.warning("unavailable: %s", exc)
        return ApiError(
            503,
            "timeout",
            "A part of the assistant did not answer in time; try again shortly.",
            retry_after=retry_after,
        )
    if isinstance(exc, IndexNotBuiltError | StoreError):
        log.error("store failure: %s", exc)
        return ApiError(
            503,
            "store_unavailable",
            "The document store is not available right now; try again later.",
            retry_after=retry_after,
        )
    log.error("assistant failure: %s", exc)
    return ApiError(
        503,
        "unavailable",
        "The assistant cannot answer right now; try again later.",
        retry_after=retry_after,
    )


def _internal() -> ApiError:
    return ApiError(500, "internal", "Something went wrong on our side; it has been logged.")


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def _error_response(error: ApiError, request_id: str) -> JSONResponse:
    headers = {"X-Request-ID": request_id}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    body = {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        level = logging.WARNING if exc.status >= 500 else logging.INFO
        log.log(level, "request %s -> %s %s", _request_id(request), exc.status, exc.code)
        return _error_response(exc, _request_id(request))

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"Invalid request: {where}: {first.get('msg', 'malformed')}."
        return _error_response(ApiError(422, "invalid_request", message), _request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        error = ApiError(exc.status_code, code, str(exc.detail))
        return _error_response(error, _request_id(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("request %s failed", _request_id(request), exc_info=exc)
        return _error_response(_internal(), _request_id(request))


# -- streaming ---------------------------------------------------------------------------


def _sse(event: StreamEvent) -> dict[str, str]:
    if isinstance(event, StatusEvent):
        payload: dict[str, Any] = {"stage": event.stage}
    elif isinstance(event, SentenceEvent):
        payload = {"text": event.text, "sentence": sentence_json(event.sentence)}
    elif isinstance(event, AnswerEvent):
        payload = answer_json(event.answer)
    else:  # pragma: no cover - a new event type must be given a shape here
        raise TypeError(f"unknown stream event {type(event).__name__}")
    return {"event": event.type, "data": json.dumps(payload, ensure_ascii=False)}


def _sse_error(error: ApiError, request_id: str) -> dict[str, str]:
    payload = {"status": error.status, "code": error.code, "message": error.message}
    payload["request_id"] = request_id
    return {"event": "error", "data": json.dumps(payload, ensure_ascii=False)}


class _SlotEventSource(EventSourceResponse):
    """An event stream that gives its pool slot back however it ends: finished, failed, or
    cut off by a client that went away (even before the first event)."""

    def __init__(self, slot: Slot, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


class RequestId:
    """ASGI middleware: a fresh id per request, in `scope["state"]` and the X-Request-ID
    response header, so a visitor's report can be matched with the server log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
