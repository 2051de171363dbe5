"""Files to `Document`s: one reader per format, then the same cleaning for every format.

`load_corpus` reads the corpus folder (a bad file is reported, never fatal), `load_document`
one file, `save_news_file` checks and stores a staff upload under `news/` and
`delete_corpus_file` removes one. Every document passes through `strip_injections` (a warning
names the file) and `clean_text`; PDFs keep their line layout and get `PageSpan`s pointing into
the final text, so a chunk can name its page. Metadata precedence: the file's own header or
markup, then a publication label in its text, then a `YYYY-MM-DD_` file-name prefix; the kind is
'news' for files under a `news/` folder unless the header says otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from assistant.errors import DocumentError, InputError
from assistant.loaders.cleaning import (
    clean_text,
    is_injection,
    normalize_whitespace,
    strip_injections,
)
from assistant.loaders.extraction import Extraction
from assistant.loaders.files import (
    NEWS_FOLDER,
    SUPPORTED_SUFFIXES,
    base_name,
    check_suffix,
    corpus_root,
    discover_files,
    doc_id_for,
    human_size,
    is_document_path,
    read_bytes,
    resolve_in_corpus,
    safe_filename,
    visible_files,
    write_atomically,
)
from assistant.loaders.metadata import date_from_filename, title_from_text
from assistant.loaders.plaintext import read_text
from assistant.types import Document, FileFailure, PageSpan, SavedUpload

__all__ = [
    "SUPPORTED_SUFFIXES",
    "delete_corpus_file",
    "discover_files",
    "doc_id_for",
    "load_corpus",
    "load_document",
    "parse_document",
    "read_bytes",
    "save_news_file",
]

log = logging.getLogger(__name__)


# pypdf and trafilatura are imported with the first file that needs them: together they take
# longer to import than an indexing run on an unchanged corpus takes in all.
def read_html(data: bytes) -> Extraction:
    from assistant.loaders.webpage import read_html as read

    return read(data)


def read_pdf(data: bytes) -> Extraction:
    from assistant.loaders.pdf import read_pdf as read

    return read(data)


_READERS: dict[str, Callable[[bytes], Extraction]] = {
    ".txt": lambda data: read_text(data, markdown=False),
    ".md": lambda data: read_text(data, markdown=True),
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}
_PART_BREAK = "\n\n"


def _assemble(extraction: Extraction) -> tuple[str, tuple[PageSpan, ...], list[str]]:
    """Clean each part and join them; returns the text, its page spans and removed lines."""
    pieces: list[str] = []
    spans: list[PageSpan] = []
    removed: list[str] = []
    offset = 0
    for part in extraction.parts:
        text, dropped = strip_injections(part.text)
        removed.extend(dropped)
        # Web boilerplate rules read a page's layout; a PDF page has no menus, only furniture
        # that the PDF reader already removed.
        cleaned = normalize_whitespace(text) if part.page is not None else clean_text(text)
        if not cleaned:
            continue
        if pieces:
            offset += len(_PART_BREAK)
        if part.page is not None:
            spans.append(PageSpan(page=part.page, start=offset))
        pieces.append(cleaned)
        offset += len(cleaned)
    return _PART_BREAK.join(pieces), tuple(spans), removed


def _kind(doc_id: str, stated: str | None) -> str:
    if stated:
        return stated
    folders = PurePosixPath(doc_id).parts[:-1]
    return "news" if any(folder.lower() == NEWS_FOLDER for folder in folders) else "document"


def _title(stated: str | None, text: str, doc_id: str) -> str:
    if stated and stated.strip() and not is_injection(stated):
        # A <title> or PDF title stuffed with words is cut like a long first line.
        return title_from_text(" ".join(stated.split())) or stated.strip()
    return title_from_text(text) or PurePosixPath(doc_id).stem.replace("_", " ").replace("-", " ")


def parse_document(data: bytes, doc_id: str) -> Document:
    """Build a Document from a file's bytes, exactly as `load_document` does.

    Raises:
        DocumentError: the file is empty, binary, undecodable, a corrupt, encrypted or scanned
            PDF, of an unsupported type, or holds no text once cleaned. The message is the
            reason alone; callers add the file name.
    """
    suffix = PurePosixPath(doc_id).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise DocumentError(
            f"unsupported file type '{suffix or '(none)'}': "
            f"save it as {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not data.strip():
        raise DocumentError("empty file: add the document's text or delete the file")
    extraction = reader(data)
    text, pages, removed = _assemble(extraction)
    if removed:
        log.warning(
            "%s: removed %d line(s) addressed to an AI system (possible prompt injection): %s",
            doc_id,
            len(removed),
            " | ".join(line[:120] for line in removed),
        )
    if not text:
        raise DocumentError(
            "no text left after cleaning (only navigation, date stamps or removed "
            "instructions): add the article text"
        )
    return Document(
        doc_id=doc_id,
        source=doc_id,
        title=_title(extraction.title, text, doc_id),
        kind=_kind(doc_id, extraction.kind),
        date=extraction.date or date_from_filename(PurePosixPath(doc_id).name),
        publisher=extraction.publisher,
        text=text,
        pages=pages,
        content_hash=hashlib.sha256(data).hexdigest(),
    )


def load_document(path: Path, corpus_dir: Path) -> Document:
    """Read, decode, clean and describe one corpus file.

    Raises:
        DocumentError: '<doc_id>: <reason>' for any file that cannot be a document.
    """
    doc_id = doc_id_for(path, corpus_dir)
    try:
        return parse_document(read_bytes(path), doc_id)
    except DocumentError as exc:
        raise DocumentError(f"{doc_id}: {exc}") from exc


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[FileFailure]]:
    """Every document of the corpus folder, and a failure (with its reason) for each bad file.

    Raises:
        ConfigError: the corpus folder does not exist.
    """
    documents: list[Document] = []
    failures: list[FileFailure] = []
    for doc_id, path in visible_files(corpus_dir):
        try:
            if not is_document_path(PurePosixPath(doc_id)):
                # Reported rather than skipped: staff who drop a .docx into news/ need to
                # learn why it never shows up.
                raise DocumentError(
                    f"unsupported file type '{path.suffix.lower() or '(none)'}': not indexed; "
                    f"save it as {', '.join(SUPPORTED_SUFFIXES)}"
                )
            documents.append(parse_document(read_bytes(path), doc_id))
        except DocumentError as exc:
            failures.append(FileFailure(path=doc_id, reason=str(exc)))
    for failure in failures:
        log.warning("skipped %s: %s", failure.path, failure.reason)
    return documents, failures


def save_news_file(
    corpus_dir: Path,
    filename: str,
    data: bytes,
    *,
    max_bytes: int,
    taken: Collection[str] = (),
) -> SavedUpload:
    """Check a staff upload and store it as `corpus_dir/news/<safe name>`.

    The file is parsed exactly as indexing will parse it before anything is written, and the
    write is atomic, so a bad upload never lands in the corpus and an update never leaves half
    a file. Uploading a file of exactly the same name replaces it (that is how a news item is
    updated, and the result says so). A file whose name had to be cleaned ('a b.md' is stored
    as 'a-b.md'; Cyrillic is transliterated; long names are cut) never replaces another: the
    two uploads were named differently, so one silently overwriting the other would lose a
    document. Names in `taken` (the files saved earlier in the same batch) are refused too.

    Raises:
        InputError: the name, type or size is not acceptable, or it would overwrite a
            different file.
        DocumentError: the file cannot be read as a document.
        ConfigError: the corpus folder is missing or not writable.
    """
    given = base_name(filename)
    name = safe_filename(filename)
    check_suffix(name)
    if name in taken:
        raise InputError(
            f"{given} would be saved as {name}, like another file of this upload: "
            "rename one of them and upload it again"
        )
    if len(data) > max_bytes:
        raise InputError(
            f"{name} is {human_size(len(data))}; the upload limit is {human_size(max_bytes)}"
        )
    root = corpus_root(corpus_dir)
    try:
        parse_document(data, f"{NEWS_FOLDER}/{name}")
    except DocumentError as exc:
        raise DocumentError(f"{name}: {exc}") from exc
    target = root / NEWS_FOLDER / name
    existed = target.exists()
    if existed and name != given:
        raise InputError(
            f"{given} would be saved as {name}, which already exists: to update that file, "
            f"upload it named exactly {name}; otherwise give this file another name"
        )
    write_atomically(target, data)
    log.info("saved upload %s (%s)%s", target, human_size(len(data)), " replacing" * existed)
    return SavedUpload(doc_id=f"{NEWS_FOLDER}/{name}", given_name=given, replaced=existed)


def delete_corpus_file(corpus_dir: Path, doc_id: str) -> None:
    """Delete a document's file; a file that is already gone is not an error.

    Raises:
        InputError: `doc_id` is not a document path inside the corpus folder.
    """
    target = resolve_in_corpus(corpus_dir, doc_id)
    try:
        target.unlink(missing_ok=True)
    except OSError as exc:
        raise InputError(
            f"could not delete {doc_id} ({exc.strerror or exc}): check the folder's permissions"
        ) from exc
    log.info("deleted %s", doc_id)
