"""The staff page: add news, list and remove indexed documents, re-index, see unanswered questions.

It is switched on only when `ASSISTANT_ADMIN_PASSWORD` is set, and unlocked per browser
session by that password (compared in constant time). Wrong passwords are counted across all
sessions and processes per client address and overall (`assistant.access.LoginGuard`): the wait
doubles with each one and repeated failures lock the login for a while. Uploads, removals,
re-indexes and logins go to an audit log shown at the bottom of the page.
Uploads go through `service.save_upload`
(which rejects bad files with a reason) and are indexed at once with a progress bar; the
questions the assistant refused or that got a thumbs down are listed newest first, so staff
can see what the corpus is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from typing import NoReturn

import streamlit as st
from pydantic import BaseModel, ConfigDict

from assistant import service
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.types import IndexReport
from assistant.ui import render
from assistant.ui.state import (
    current_settings,
    error_markdown,
    get_audit_log,
    get_feedback_store,
    get_login_guard,
    get_resources,
    show_error,
)

log = logging.getLogger(__name__)

UNLOCKED_KEY = "staff_unlocked_for"
UPLOADER_KEY = "staff_uploader_round"
OUTCOME_KEY = "staff_outcome"
CONFIRM_KEY = "staff_confirm_remove"
UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf"]


class Outcome(BaseModel):
    """What the last staff action did, shown after the page reruns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str
    rejected: tuple[tuple[str, str], ...] = ()
    report: IndexReport | None = None
    message: str = ""
    notes: tuple[str, ...] = ()
    error: str = ""


# --- access --------------------------------------------------------------------------------


def _fingerprint(secret: str) -> str:
    # The session remembers which password unlocked it, so changing the password locks it.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _password_matches(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def client_address() -> str:
    """The browser's address as the server sees it ('unknown' when Streamlit cannot tell)."""
    try:
        address = st.context.ip_address
    except RuntimeError:  # no server runtime (a script run outside `streamlit run`)
        return "unknown"
    # Not a string when there is no browser connection (AppTest gives a mock).
    return address if isinstance(address, str) and address else "unknown"


def _audit(settings: Settings, action: str, detail: str) -> None:
    try:
        get_audit_log(settings).record(action, detail, address=client_address())
    except AssistantError:  # an unwritable audit log must not block the staff action
        log.exception("could not write the audit log")


def _unlocked(secret: str, settings: Settings) -> bool:
    """True once this session entered the password; otherwise shows the login form."""
    if st.session_state.get(UNLOCKED_KEY) == _fingerprint(secret):
        return True
    with st.form("staff-login"):
        given = st.text_input("Staff password", type="password", key="staff_password")
        submitted = st.form_submit_button("Unlock", type="primary")
    if not submitted:
        return False
    address = client_address()
    guard = get_login_guard(settings)
    # Counted before the comparison, so parallel sessions cannot guess past the limit.
    wait = guard.attempt(address)
    if wait > 0:
        st.error(
            f"Too many wrong passwords. Try again in {math.ceil(wait)} s.",
            icon=":material/lock_clock:",
        )
        return False
    if _password_matches(given, secret):
        guard.succeeded(address)
        _audit(settings, "login", "staff page unlocked")
        st.session_state[UNLOCKED_KEY] = _fingerprint(secret)
        st.rerun()
    guard.failed(address)
    _audit(settings, "login failed", "wrong staff password")
    st.error("That password is not right.", icon=":material/lock:")
    return False


def _lock() -> None:
    st.session_state.pop(UNLOCKED_KEY, None)


# --- indexing ------------------------------------------------------------------------------


def _run_index(resources: service.Resources, settings: Settings, *, rebuild: bool) -> IndexReport:
    """Index the corpus with a progress bar. The service takes the index lock, so a second
    staff session or an `index.py` run elsewhere waits, or is told who holds it.

    Raises:
        AssistantError: from the indexer, or when another writer holds the index.
    """
    del settings
    bar = st.progress(0.0, text="Preparing to index…")

    def progress(stage: str, done: int, total: int) -> None:
        share = min(1.0, done / total) if total else 0.0
        bar.progress(share, text=f"{stage} ({done} of {total})")

    try:
        return service.build_index(resources=resources, rebuild=rebuild, progress=progress)
    finally:
        bar.empty()


def _show_report(report: IndexReport) -> None:
    counts = (
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged"
    )
    st.success(
        f"Indexing finished in {report.seconds:.1f} s: {counts}; {report.chunks_written} "
        f"passages written, {report.chunks_total} in the index.",
        icon=":material/check_circle:",
    )
    for label, paths in (
        ("Added", report.added),
        ("Updated", report.updated),
        ("Removed", report.removed),
    ):
        if paths:
            names = ", ".join(render.escape_markdown(p) for p in paths)
            st.markdown(f"**{label}:** {names}")
    for failure in report.failures:
        st.warning(
            f"**{render.escape_markdown(failure.path)}** could not be indexed: "
            f"{render.escape_markdown(failure.reason)}",
            icon=":material/warning:",
        )


def _show_outcome() -> None:
    outcome: Outcome | None = st.session_state.pop(OUTCOME_KEY, None)
    if outcome is None:
        return
    for name, reason in outcome.rejected:
        st.error(
            f"**{render.escape_markdown(name)}** was not added: {render.escape_markdown(reason)}",
            icon=":material/block:",
        )
    if outcome.message:
        st.success(outcome.message, icon=":material/check_circle:")
    for note in outcome.notes:
        st.info(note, icon=":material/info:")
    if outcome.error:
        st.error(outcome.error, icon=":material/error:")
    if outcome.report is not None:
        _show_report(outcome.report)


def _finish(outcome: Outcome) -> NoReturn:
    """Keep the outcome for the rerun that shows the updated lists."""
    st.session_state[OUTCOME_KEY] = outcome
    st.rerun()


# --- sections ------------------------------------------------------------------------------


def _reason(message: str, filename: str) -> str:
    """The error without a leading '<file name>: ', which the page already shows."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.rsplit("/", 1)[-1] == filename and rest else message


def _upload_section(resources: service.Resources, settings: Settings) -> None:
    st.subheader("Add news")
    st.caption(
        f"Text, Markdown, HTML or PDF files of up to {settings.limits.max_upload_mb:g} MB each. "
        "They are saved in the corpus's news folder and indexed straight away. Start a "
        "Markdown or text file with its title and publication date for the best citations."
    )
    round_ = st.session_state.setdefault(UPLOADER_KEY, 0)
    files = st.file_uploader(
        "News files",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        # The widget takes whole megabytes; save_upload enforces the exact limit.
        max_upload_size=max(1, math.ceil(settings.limits.max_upload_mb)),
        key=f"staff-upload-{round_}",
    )
    if not st.button("Add and index", type="primary", disabled=not files, key="staff_add"):
        return
    rejected: list[tuple[str, str]] = []
    notes: list[str] = []
    taken: set[str] = set()
    saved = 0
    for upload in files or []:
        try:
            stored = service.save_upload(
                upload.name, upload.getvalue(), resources=resources, taken=taken
            )
        except AssistantError as exc:  # InputError, DocumentError, ConfigError (disk)
            rejected.append((upload.name, _reason(str(exc), upload.name)))
            continue
        saved += 1
        taken.add(stored.doc_id.rsplit("/", 1)[-1])
        shown = render.escape_markdown(stored.doc_id)
        if stored.renamed:
            notes.append(f"**{render.escape_markdown(upload.name)}** was saved as **{shown}**.")
        if stored.replaced:
            notes.append(f"**{shown}** replaced the earlier file of that name.")
        _audit(settings, "upload", f"{stored.doc_id}{' (replaced)' if stored.replaced else ''}")
    st.session_state[UPLOADER_KEY] = round_ + 1  # a fresh, empty uploader after the rerun
    outcome = Outcome(action="upload", rejected=tuple(rejected), notes=tuple(notes))
    if saved:
        try:
            report = _run_index(resources, settings, rebuild=False)
            outcome = outcome.model_copy(update={"report": report})
        except Exception as exc:  # the edge
            outcome = outcome.model_copy(update={"error": error_markdown(exc, "indexing")})
    _finish(outcome)


def _documents_section(resources: service.Resources, settings: Settings) -> None:
    st.subheader("Indexed documents")
    try:
        documents = service.list_documents(resources=resources)
    except AssistantError as exc:
        show_error(exc, "listing the documents")
        return
    if not documents:
        st.info("Nothing is indexed yet: add news above or re-index the corpus below.")
        return
    st.dataframe(
        [
            {
                "Title": d.title,
                "Date": d.date.isoformat() if d.date else "",
                "Kind": d.kind,
                "Passages": d.chunks,
                "File": d.source,
            }
            for d in documents
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Title": st.column_config.TextColumn(width="large"),
            "Date": st.column_config.TextColumn(width="small"),
            "Kind": st.column_config.TextColumn(width="small"),
            "Passages": st.column_config.NumberColumn(width="small"),
            "File": st.column_config.TextColumn(width="medium"),
        },
    )
    titles = {d.doc_id: f"{d.title} ({d.source})" for d in documents}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Remove a document",
            options=list(titles),
            format_func=titles.__getitem__,
            index=None,
            placeholder="Choose a document…",
            key="staff_remove_choice",
        )
        if st.button("Remove…", disabled=chosen is None, key="staff_remove"):
            st.session_state[CONFIRM_KEY] = chosen
    _confirm_removal(resources, settings, titles)


def _confirm_removal(
    resources: service.Resources, settings: Settings, titles: dict[str, str]
) -> None:
    doc_id = st.session_state.get(CONFIRM_KEY)
    if doc_id not in titles:
        return
    st.warning(
        f"Remove **{render.escape_markdown(titles[doc_id])}**? This deletes its file from the "
        "corpus and its passages from the index; answers will no longer cite it.",
        icon=":material/delete:",
    )
    with st.container(horizontal=True):
        confirmed = st.button("Yes, remove it", type="primary", key="staff_remove_yes")
        cancelled = st.button("Cancel", key="staff_remove_no")
    if cancelled:
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()
    if not confirmed:
        return
    st.session_state.pop(CONFIRM_KEY, None)
    try:
        service.remove_document(doc_id, resources=resources)
    except Exception as exc:  # the edge
        _finish(Outcome(action="remove", error=error_markdown(exc, "removing the document")))
    _audit(settings, "remove", doc_id)
    _finish(Outcome(action="remove", message=f"Removed {render.escape_markdown(titles[doc_id])}."))


def _reindex_section(resources: service.Resources, settings: Settings) -> None:
    st.subheader("Re-index")
    st.caption(
        "Brings the index in line with the corpus folder: new and changed files are indexed, "
        "deleted ones removed, unchanged ones skipped."
    )
    rebuild = st.checkbox(
        "Rebuild from scratch (slower; needed after changing the embedding or chunking settings)",
        key="staff_rebuild",
    )
    if not st.button("Re-index the corpus", key="staff_reindex", icon=":material/refresh:"):
        return
    try:
        report = _run_index(resources, settings, rebuild=rebuild)
    except Exception as exc:  # the edge
        _finish(Outcome(action="reindex", error=error_markdown(exc, "indexing")))
    _audit(
        settings,
        "rebuild" if rebuild else "re-index",
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.failures)} failed",
    )
    _finish(Outcome(action="reindex", report=report))


def _gaps_section(settings: Settings) -> None:
    st.subheader("Questions the assistant could not answer")
    st.caption(
        "Refused questions and answers that got a thumbs down, newest first: what the corpus "
        "may be missing."
    )
    try:
        gaps = get_feedback_store(settings).list_gaps(200)
    except AssistantError as exc:
        show_error(exc, "reading the feedback")
        return
    if not gaps:
        st.caption("None so far.")
        return
    st.dataframe(
        [
            {
                "When (UTC)": (g.rated_at or g.created_at).strftime("%Y-%m-%d %H:%M"),
                "Question": g.question,
                "Times asked": g.count,
                "Why": g.reason,
                "Answer given": g.answer,
            }
            for g in gaps
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "When (UTC)": st.column_config.TextColumn(width="small"),
            "Question": st.column_config.TextColumn(width="large"),
            "Times asked": st.column_config.NumberColumn(width="small"),
            "Why": st.column_config.TextColumn(width="small"),
            "Answer given": st.column_config.TextColumn(width="large"),
        },
    )


def _audit_section(settings: Settings) -> None:
    st.subheader("Audit log")
    st.caption("Uploads, removals, re-indexes and logins, newest first, with the address used.")
    try:
        entries = get_audit_log(settings).recent(200)
    except AssistantError as exc:
        show_error(exc, "reading the audit log")
        return
    if not entries:
        st.caption("Nothing yet.")
        return
    st.dataframe(
        [
            {
                "When (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"),
                "Action": e.action,
                "Detail": e.detail,
                "Address": e.address,
            }
            for e in entries
        ],
        hide_index=True,
        width="stretch",
        key="staff_audit",
    )


def render_staff_page() -> None:
    """The whole staff page (called by its page script on every run)."""
    st.title("Staff", anchor=False)
    try:
        settings = current_settings()
    except AssistantError as exc:
        show_error(exc, "reading the settings")
        return
    secret = settings.limits.admin_password.get_secret_value()
    if not secret:
        st.info(
            "The staff page is switched off. To switch it on, set the environment variable "
            "`ASSISTANT_ADMIN_PASSWORD` to a password of your choice and restart the app "
            "(`ASSISTANT_ADMIN_PASSWORD=… streamlit run app.py`).",
            icon=":material/lock:",
        )
        return
    if not _unlocked(secret, settings):
        return
    st.button("Lock the staff page", key="staff_lock", on_click=_lock, icon=":material/lock:")
    try:
        resources = get_resources(settings)
    except Exception as exc:  # the edge
        show_error(exc, "starting the assistant")
        return
    _show_outcome()
    _upload_section(resources, settings)
    _documents_section(resources, settings)
    _reindex_section(resources, settings)
    _gaps_section(settings)
    _audit_section(settings)
