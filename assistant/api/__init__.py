"""The public HTTP API and the embeddable chat widget: the only modules that import FastAPI.

`create_app` builds the application (thin routes over `assistant.service`); `serve` runs it
with uvicorn (`python -m assistant serve`). The widget is `static/widget.js`, one file.
"""

from assistant.api.app import create_app
from assistant.api.server import serve

__all__ = ["create_app", "serve"]
