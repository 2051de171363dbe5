"""Errors the assistant raises on purpose, each with a message that says what to do next.

Only the edges (CLI, Streamlit app, HTTP API) translate these into exit codes, `st.error`
boxes or JSON error bodies; everything below them raises and lets the edge decide.
"""


class AssistantError(Exception):
    """Base class: a problem a user or operator can act on."""


class ConfigError(AssistantError):
    """A setting is missing or wrong."""


class DocumentError(AssistantError):
    """A file could not be read as a document (corrupt, encrypted, empty, binary, ...)."""


class IndexNotBuiltError(AssistantError):
    """The vector store holds no index yet."""


class StoreError(AssistantError):
    """The vector store cannot be reached or refused an operation."""


class ModelError(AssistantError):
    """A model (embedding or chat) could not be loaded or failed while running."""


class InputError(AssistantError):
    """A request is malformed, empty or too large."""


class IndexBusyError(AssistantError):
    """Another process is writing the index and did not finish in time."""


class UnavailableError(AssistantError):
    """A needed component is busy or not answering in time; the same request may work later."""
