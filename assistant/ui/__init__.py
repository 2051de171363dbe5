"""The Streamlit front end: the only place under `assistant/` that imports streamlit.

`app.py` calls `assistant.ui.app.main`, which sets up the page and the navigation between the
chat page (`chat.py`) and the staff page (`staff.py`); `render.py` shapes text for display
and `state.py` holds what the pages share. The pages call only `assistant.service` and
`assistant.feedback`.
"""
