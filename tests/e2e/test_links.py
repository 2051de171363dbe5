"""In a real browser: addresses from documents are not turned into links by Streamlit.

remark-gfm in Streamlit's front end links bare URLs, `www.` names and e-mail addresses even
inside backslash-escaped text, so escaping alone is not enough. A tiny page renders the same
document text twice, once through `render.escape_markdown` and once raw (the control that shows
the browser would link it), and the test counts the links in each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _wait_until_healthy
from tests.servers import free_port, stop

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEXT = "Write to cpmr@alatoo.edu.kg, see https://evil.example/login or www.evil.example today."
PAGE = f"""
import streamlit as st
from assistant.ui import render
with st.container(key="escaped"):
    st.markdown(render.escape_markdown({TEXT!r}))
with st.container(key="raw"):
    st.markdown({TEXT!r})
"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium")
def test_document_addresses_are_plain_text_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    script = tmp_path / "links_page.py"
    script.write_text(PAGE, encoding="utf-8")
    port = free_port()
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url)
                raw = page.locator(".st-key-raw")
                escaped = page.locator(".st-key-escaped")
                expect(raw.get_by_text("today", exact=False)).to_be_visible(timeout=60_000)
                expect(escaped.get_by_text("today", exact=False)).to_be_visible()
                raw_links = raw.locator("a").count()
                assert raw_links >= 3, f"control: the browser links raw addresses ({raw_links})"
                links = escaped.locator("a").count()
                assert links == 0, f"{links} clickable address(es) in escaped document text"
                shown = escaped.inner_text().replace("\u2060", "")
                assert "cpmr@alatoo.edu.kg" in shown and "https://evil.example/login" in shown, (
                    f"the addresses are still shown as text: {shown!r}"
                )
            finally:
                browser.close()
    finally:
        stop(process)
