"""End-to-end: a real `streamlit run app.py` driven by headless Chromium through Playwright.

The app runs as a subprocess on a free port against a temp copy of the corpus, indexed first;
the test types a question, waits for the answer and its source list, and saves a screenshot
to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import service
from tests.conftest import CORPUS, ROOT, make_settings
from tests.servers import free_port, stop

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT_S = 60
ANSWER_TIMEOUT_MS = 180_000


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not start within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running `streamlit run app.py` on an indexed temp copy of the corpus."""
    base = tmp_path_factory.mktemp("e2e")
    shutil.copytree(CORPUS, base / "corpus")
    report = service.build_index(settings=make_settings(base))
    assert report.ok, f"the e2e index must build: {report}"
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(base / "corpus"),
        "ASSISTANT_CHROMA_DIR": str(base / "chroma"),
        "ASSISTANT_FEEDBACK_DB": str(base / "feedback.sqlite3"),
        "ASSISTANT_LLM_BACKEND": "local",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    env.pop("ASSISTANT_ADMIN_PASSWORD", None)
    log = base / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        stop(process)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium")
def test_question_in_a_real_browser_gets_an_answer_with_sources(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.goto(app_url)
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            expect(page.get_by_text("Try one of these")).to_be_visible()

            box.fill("What is the mandate of CPMR?")
            box.press("Enter")

            sources = page.get_by_text("Sources", exact=True)
            expect(sources).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            open_buttons = page.get_by_role("button", name="Open the source")
            expect(open_buttons.first).to_be_visible()
            expect(page.get_by_test_id("stChatMessage")).to_have_count(2)
            page.screenshot(path=str(ARTIFACTS / "e2e-chat-answer.png"), full_page=True)

            open_buttons.first.click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_be_visible(timeout=30_000)
            expect(dialog.locator("mark").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "e2e-source-dialog.png"))
        finally:
            browser.close()
