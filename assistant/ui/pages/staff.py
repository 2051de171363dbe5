"""Page script of the staff page: Streamlit runs this file on every rerun of that page."""

from assistant.ui.staff import render_staff_page

render_staff_page()
