"""The API's guards on their own: origin lists, the rate window, the answer pool."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from assistant.api.guards import OriginPolicy, RateLimiter, normalise_origin, parse_origins
from assistant.api.pool import AnswerPool, PoolFullError


def test_origins_are_compared_as_browsers_send_them():
    allowed = parse_origins(" https://WWW.Alatoo.edu.kg/ , https://alatoo.edu.kg:443,, x")
    assert allowed == {"https://www.alatoo.edu.kg", "https://alatoo.edu.kg"}, allowed
    assert normalise_origin("http://localhost:8080/") == "http://localhost:8080"
    policy = OriginPolicy(allowed)
    own = "http://api.example:8000"
    assert policy.permits("https://www.alatoo.edu.kg", own), "a listed origin may ask"
    assert policy.permits(None, own), "no Origin: not a browser page (curl, a server)"
    assert policy.permits("http://api.example:8000", own), "the API's own demo page may ask"
    for refused in ("https://evil.example", "null", "https://www.alatoo.edu.kg.evil.example"):
        assert not policy.permits(refused, own), f"{refused} must be refused"
    assert not OriginPolicy(parse_origins("")).permits("https://www.alatoo.edu.kg", own), (
        "with no list, deny every other origin"
    )


def test_rate_limiter_counts_per_client_and_says_when_to_retry():
    limiter = RateLimiter("2/minute")
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    wait = limiter.hit("a")
    assert 0 < wait <= 60, f"the third request in a minute waits: {wait}"
    assert limiter.hit("b") == 0, "another client has its own window"


def test_pool_refuses_beyond_capacity_and_a_stopped_stream_frees_its_slot():
    pool = AnswerPool(concurrency=1, queue=1)
    first, second = pool.reserve(), pool.reserve()
    with pytest.raises(PoolFullError):
        pool.reserve()
    first.release()
    first.release()  # releasing twice counts once
    assert pool.in_use == 1
    second.release()

    produced = threading.Event()
    closed = threading.Event()

    def endless():
        try:
            while True:
                produced.set()
                yield "sentence"
        finally:
            closed.set()

    async def take_one() -> str:
        slot = pool.reserve()
        stream = pool.stream(slot, endless)
        item = await anext(stream)
        await stream.aclose()  # what a disconnecting client causes
        return str(item)

    assert asyncio.run(take_one()) == "sentence"
    assert closed.wait(5), "the worker must close the producer once the consumer is gone"
    deadline = time.monotonic() + 5
    while pool.in_use and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.in_use == 0, "and give its slot back"
    pool.shutdown()
