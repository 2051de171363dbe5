"""What the Streamlit pages share: settings, the once-per-process resources, errors shown kindly.

The models and the store are loaded once per process and shared by every browser session
(`st.cache_resource`), keyed by the settings so a test that points the app at another corpus
gets its own; the feedback store and the indexing lock are shared the same way. `error_markdown`
is the one place where pipeline errors become `st.error` boxes: a known `AssistantError`
shows its message (which says what to do), anything else a generic message while the
traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from assistant import service
from assistant.access import AuditLog, LoginGuard, staff_db_path
from assistant.config import Settings, load_settings
from assistant.errors import (
    AssistantError,
    ConfigError,
    DocumentError,
    IndexNotBuiltError,
    InputError,
    ModelError,
    StoreError,
)
from assistant.feedback import FeedbackStore
from assistant.ui.render import escape_markdown, without_locations

log = logging.getLogger(__name__)

LOADING_MESSAGE = "Loading the language models and the document index (first visit only)…"

_TITLES: tuple[tuple[type[AssistantError], str], ...] = (
    (IndexNotBuiltError, "The documents have not been indexed yet."),
    (StoreError, "The document store cannot be used right now."),
    (ModelError, "A language model failed."),
    (InputError, "That request cannot be used."),
    (DocumentError, "That file cannot be read."),
    (ConfigError, "A setting is wrong."),
)


def current_settings() -> Settings:
    """The settings from the environment, read on every run (cheap) so tests can change them.

    Raises:
        ConfigError: an environment variable holds an invalid value (named in the message).
    """
    return load_settings()


@st.cache_resource(show_spinner=LOADING_MESSAGE, max_entries=4)
def _load_resources(fingerprint: str, _settings: Settings) -> service.Resources:
    # `fingerprint` is the cache key (secrets appear masked in it); `_settings` is unhashed.
    del fingerprint
    return service.load_resources(_settings)


def get_resources(settings: Settings) -> service.Resources:
    """The shared models and store for these settings, loaded on first use."""
    return _load_resources(settings.model_dump_json(), settings)


@st.cache_resource(show_spinner=False)
def _feedback_store(path: str, max_rows: int, retention_days: int) -> FeedbackStore:
    return FeedbackStore(Path(path), max_rows=max_rows, retention_days=retention_days)


def get_feedback_store(settings: Settings) -> FeedbackStore:
    """The shared feedback store at `settings.paths.feedback_db`."""
    return _feedback_store(
        str(settings.paths.feedback_db.resolve()),
        settings.staff.feedback_max_rows,
        settings.staff.feedback_retention_days,
    )


@st.cache_resource(show_spinner=False)
def _login_guard(fingerprint: str, _settings: Settings) -> LoginGuard:
    del fingerprint
    return LoginGuard.from_settings(_settings)


def get_login_guard(settings: Settings) -> LoginGuard:
    """The failed-login counter shared by every session (and, through SQLite, every process)."""
    return _login_guard(
        f"{staff_db_path(settings).resolve()}|{settings.staff.model_dump_json()}", settings
    )


@st.cache_resource(show_spinner=False)
def _audit_log(path: str) -> AuditLog:
    return AuditLog(Path(path))


def get_audit_log(settings: Settings) -> AuditLog:
    """The staff actions log, beside the feedback database."""
    return _audit_log(str(staff_db_path(settings).resolve()))


def error_markdown(exc: BaseException, doing: str) -> str:
    """What to show for an error caught at the edge: what happened and what to do.

    A known `AssistantError` shows its own message (which says what to do); anything else gets
    a generic message, and its traceback goes to the server log only.

    Args:
        exc: the error caught at the edge.
        doing: what the app was doing, e.g. "answering your question".
    """
    if isinstance(exc, AssistantError):
        title = next((t for kind, t in _TITLES if isinstance(exc, kind)), "Something went wrong.")
        log.warning("%s while %s: %s", type(exc).__name__, doing, exc)
        # The full message (with paths and addresses) is in the log line above.
        return f"**{title}** {escape_markdown(without_locations(str(exc)))}"
    log.error("unexpected error while %s", doing, exc_info=exc)
    return (
        f"**Something went wrong while {doing}.** Please try again in a moment; if it keeps "
        "happening, tell the site's staff (the details are in the server log)."
    )


def show_error(exc: BaseException, doing: str) -> None:
    """Show an error caught at the edge as an `st.error` box; never a traceback."""
    st.error(error_markdown(exc, doing), icon=":material/error:")
