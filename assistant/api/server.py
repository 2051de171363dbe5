"""`python -m assistant serve`: the API under uvicorn, one or several processes.

Each process loads its own models (a GGUF model and MiniLM take ~300 MB), so `--workers`
multiplies memory; within a process, `ASSISTANT_API_CONCURRENCY` answers run at once.
"""

from __future__ import annotations

import logging
import os

import uvicorn

from assistant.config import load_settings


def app_factory() -> object:
    """The app built from the environment's settings (uvicorn calls this in each worker)."""
    from assistant.api.app import create_app

    # Each worker process logs request ids with their outcomes (ASSISTANT_LOG_LEVEL).
    logging.basicConfig(
        level=os.environ.get("ASSISTANT_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return create_app(load_settings())


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API until interrupted. Settings come from the environment."""
    load_settings()  # a bad setting stops here with one line, before uvicorn starts
    uvicorn.run(
        "assistant.api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # Behind a reverse proxy, FORWARDED_ALLOW_IPS names it so client addresses (for the
        # rate limit) come from X-Forwarded-For; uvicorn reads that variable itself.
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
