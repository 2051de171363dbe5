"""API fixtures: the app over the session's real indexed resources, and a live uvicorn server
for what needs real sockets (client disconnects, requests running side by side)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from assistant.config import ApiSettings, Settings
from tests.servers import free_port


def with_api(settings: Settings, **api: Any) -> Settings:
    """`settings` with some API settings changed."""
    return settings.model_copy(update={"api": ApiSettings(**api)})


def resources_with(resources: Any, **api: Any) -> Any:
    """The session's resources under changed API settings (same models, same store)."""
    return dataclasses.replace(
        resources, settings=with_api(resources.settings, **api), _answerer=None
    )


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def api_resources(resources: Any) -> Any:
    """The indexed corpus with generous API limits (tests narrow the one they check)."""
    return resources_with(resources, rate_limit="1000/minute")
