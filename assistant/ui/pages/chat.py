"""Page script of the chat: Streamlit runs this file on every rerun of the chat page."""

from assistant.ui.chat import render_chat_page

render_chat_page()
