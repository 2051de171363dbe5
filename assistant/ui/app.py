"""The app frame: page configuration and navigation between the chat and the staff page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"
CHAT_PAGE = PAGES / "chat.py"
STAFF_PAGE = PAGES / "staff.py"


def main() -> None:
    """Configure the page and run the page the visitor is on (chat by default)."""
    st.set_page_config(
        page_title="CPMR Assistant",
        page_icon=":material/biotech:",
        layout="centered",
        menu_items={
            "About": "Answers about CPMR and medical-university partnerships, "
            "with citations to the documents they come from."
        },
    )
    page = st.navigation(
        [
            st.Page(CHAT_PAGE, title="Ask CPMR", icon=":material/chat:", default=True),
            st.Page(
                STAFF_PAGE, title="Staff", icon=":material/admin_panel_settings:", url_path="staff"
            ),
        ]
    )
    page.run()
