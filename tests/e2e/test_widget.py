"""End-to-end: the embeddable widget on a plain host page, in headless Chromium.

`python -m assistant serve` runs as a subprocess on one port (indexed temp corpus, extractive
answers, one allowed origin); two static host pages are served on two other ports, one of them
allowed. The test opens the widget, asks, sees the streamed answer and numbered sources, opens
a quote, switches to Russian labels, and checks that the non-allowed page gets no answer.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import service
from tests.conftest import CORPUS, ROOT, make_settings
from tests.e2e.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.servers import free_port, stop

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium"),
]

TIMEOUT_MS = 120_000
HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>University news</title>
<style>* {{ color: #c00 !important; font-size: 30px; }} button {{ display: none; }}</style>
</head><body><h1>Ala-Too International University</h1><p>News and events.</p>
<script src="{api}/widget.js" data-title="Ask CPMR" async></script></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the API did not become ready:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The API (serve), an allowed host site and a refused one; yields their URLs."""
    base = tmp_path_factory.mktemp("widget")
    shutil.copytree(CORPUS, base / "corpus")
    assert service.build_index(settings=make_settings(base)).ok, "the e2e index must build"
    allowed_dir, refused_dir = base / "allowed", base / "refused"
    allowed_dir.mkdir()
    refused_dir.mkdir()
    allowed_site, allowed_url = _serve_folder(allowed_dir)
    refused_site, refused_url = _serve_folder(refused_dir)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    for folder in (allowed_dir, refused_dir):
        (folder / "index.html").write_text(HOST_PAGE.format(lang="en", api=api), "utf-8")
        (folder / "ru.html").write_text(HOST_PAGE.format(lang="ru", api=api), "utf-8")
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(base / "corpus"),
        "ASSISTANT_CHROMA_DIR": str(base / "chroma"),
        "ASSISTANT_FEEDBACK_DB": str(base / "feedback.sqlite3"),
        "ASSISTANT_LLM_BACKEND": "extractive",
        "ASSISTANT_ALLOWED_ORIGINS": allowed_url,
        "PYTHONPATH": str(ROOT),
    }
    log = base / "serve.log"
    command = [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(api, process, log)
        yield {"api": api, "allowed": allowed_url, "refused": refused_url}
    finally:
        stop(process)
        allowed_site.shutdown()
        refused_site.shutdown()


def test_widget_answers_with_sources_quotes_and_russian_labels(sites: dict[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.goto(sites["allowed"] + "/index.html")
            launcher = page.get_by_role("button", name="Ask CPMR")
            expect(launcher).to_be_visible(timeout=TIMEOUT_MS)
            launcher.focus()
            page.keyboard.press("Enter")  # keyboard-operable
            box = page.get_by_role("textbox")
            expect(box).to_be_focused()
            box.fill("What is the mandate of CPMR?")
            with page.expect_response("**/api/chat/stream") as streamed:
                box.press("Enter")
            response = streamed.value
            assert response.headers["content-type"].startswith("text/event-stream"), (
                f"the answer must arrive as a stream: {response.headers}"
            )
            sources = page.locator(".sources li")
            expect(sources.first).to_be_visible(timeout=TIMEOUT_MS)
            answer = page.locator(".msg.bot .answer").last
            expect(answer).not_to_be_empty()
            cites = answer.locator("a.cite")
            assert cites.count() >= 1, "the answer must carry [n] links"
            numbers = {cites.nth(i).inner_text() for i in range(cites.count())}
            assert numbers == {f"[{i + 1}]" for i in range(sources.count())}, (
                f"every [n] must link to a numbered source: {numbers}, {sources.count()} sources"
            )
            page.screenshot(path=str(ARTIFACTS / "widget-answer-360.png"))

            cites.first.click()
            quote_button = sources.first.get_by_role("button", name="Show quote")
            expect(quote_button).to_be_focused()
            quote_button.click()
            quote = sources.first.locator("blockquote")
            expect(quote).to_be_visible()
            expect(quote).not_to_be_empty()
            quote.scroll_into_view_if_needed()
            expect(sources.first.get_by_role("button", name="Hide quote")).to_have_attribute(
                "aria-expanded", "true"
            )
            page.screenshot(path=str(ARTIFACTS / "widget-quote-360.png"))

            # Text from anywhere is shown as text: markup typed in never becomes elements.
            box.fill('<img src=x onerror="window.pwned=1"> CPMR?')
            box.press("Enter")
            expect(page.locator(".msg.user").last).to_contain_text("<img src=x")
            assert page.locator(".msg img").count() == 0, "no element may come from text"

            page.evaluate("window.cpmrAssistant.setLang('ru')")
            expect(page.get_by_role("button", name="Новый чат")).to_be_visible()
            expect(page.locator(".sources h3").first).to_have_text("Источники")
            expect(box).to_have_attribute("placeholder", "Спросите о CPMR и его партнёрствах…")
            page.screenshot(path=str(ARTIFACTS / "widget-russian-360.png"))
            page.get_by_role("button", name="Новый чат").click()
            expect(page.locator(".sources")).to_have_count(0)

            # The host page's language picks the labels when data-lang is absent.
            ru_page = browser.new_page(viewport={"width": 1000, "height": 800})
            ru_page.goto(sites["allowed"] + "/ru.html")
            ru_page.get_by_role("button", name="Ask CPMR").click()
            expect(ru_page.get_by_role("button", name="Закрыть")).to_be_visible()
        finally:
            browser.close()


def test_a_page_on_a_non_allowed_origin_gets_no_answer(sites: dict[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(sites["refused"] + "/index.html")
            page.get_by_role("button", name="Ask CPMR").click()
            box = page.get_by_role("textbox")
            box.fill("What is the mandate of CPMR?")
            box.press("Enter")
            expect(page.get_by_role("alert")).to_be_visible(timeout=TIMEOUT_MS)
            assert page.locator(".sources").count() == 0, "a refused origin must get no sources"
            assert page.locator(".msg.bot").count() == 0, "and no answer"
            page.screenshot(path=str(ARTIFACTS / "widget-refused-origin.png"))
        finally:
            browser.close()
