"""Streamlit entry point of the CPMR Assistant: `streamlit run app.py` (after `python index.py`).

All of the app lives in `assistant/ui/`; this file only starts it.
"""

from assistant.ui.app import main

main()
