"""The corpus folder on disk: which files are documents, their ids, staff uploads and deletes.

A document's id is its path relative to the corpus root, '/'-separated, so it is stable across
machines and readable in citations. Hidden files and folders (editor swap files, the atomic
writer's temporary files) and README files are not documents.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath

from anyascii import anyascii

from assistant.errors import ConfigError, DocumentError, InputError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
NEWS_FOLDER = "news"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_STEM = 120


def _is_readme(name: str) -> bool:
    return name.upper().startswith("README")


def _is_visible(relative: PurePosixPath) -> bool:
    return not any(part.startswith(".") for part in relative.parts) and not _is_readme(
        relative.name
    )


def is_document_path(relative: PurePosixPath) -> bool:
    """True for a corpus-relative path that names a document the loaders read."""
    return _is_visible(relative) and relative.suffix.lower() in SUPPORTED_SUFFIXES


def corpus_root(corpus_dir: Path) -> Path:
    """The corpus folder, which must exist."""
    if not corpus_dir.is_dir():
        raise ConfigError(
            f"corpus folder {corpus_dir} does not exist: create it and put documents in it, "
            "or point ASSISTANT_CORPUS_DIR at the right folder"
        )
    return corpus_dir


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    """The stable document id: the path relative to the corpus root, '/'-separated."""
    with contextlib.suppress(ValueError):
        return path.absolute().relative_to(corpus_dir.absolute()).as_posix()
    try:
        return path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    except ValueError as exc:
        raise DocumentError(
            f"{path} is not inside the corpus folder {corpus_dir}: move it there first"
        ) from exc


def visible_files(corpus_dir: Path) -> list[tuple[str, Path]]:
    """(doc id, path) of every visible file under the corpus folder, sorted by id."""
    root = corpus_root(corpus_dir)
    found = []
    for path in root.rglob("*"):
        doc_id = doc_id_for(path, root)
        if path.is_file() and _is_visible(PurePosixPath(doc_id)):
            found.append((doc_id, path))
    return sorted(found)


def discover_files(corpus_dir: Path) -> list[Path]:
    """Supported files under the corpus folder, recursively, sorted by document id."""
    return [
        path
        for doc_id, path in visible_files(corpus_dir)
        if is_document_path(PurePosixPath(doc_id))
    ]


def base_name(filename: str) -> str:
    """The name an upload was given, without any folders its browser sent."""
    return re.split(r"[\\/]", filename.strip())[-1]


def safe_filename(filename: str) -> str:
    """A plain, visible base name for an uploaded file (no folders, no hidden names)."""
    base = base_name(filename)
    base = anyascii(unicodedata.normalize("NFKC", base))
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", stem)).strip("-_")[:_MAX_STEM].strip("-_")
    if not stem:
        raise InputError(
            f"the file name {filename!r} has no usable characters: rename the file "
            "(e.g. 2026-02-16_cpmr-news.md) and upload it again"
        )
    if _is_readme(stem):
        raise InputError("README files are not indexed: give the news file another name")
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_suffix(name: str) -> str:
    """The file's lower-case suffix, if the loaders support it."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "without an extension"
        raise InputError(
            f"{name}: files {shown} are not supported; "
            f"save it as {', '.join(SUPPORTED_SUFFIXES)} and upload it again"
        )
    return suffix


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def write_atomically(target: Path, data: bytes) -> None:
    """Write a file so that readers see the old file or the new one, never half of one."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(
            f"could not write {target}: {exc.strerror or exc}; check that the corpus folder "
            "is writable and the disk is not full"
        ) from exc


def resolve_in_corpus(corpus_dir: Path, doc_id: str) -> Path:
    """The file a document id names, refusing ids that point outside the corpus."""
    relative = PurePosixPath(doc_id.strip())
    refused = InputError(
        f"{doc_id!r} is not a document of the corpus folder: give its id as listed, e.g. "
        "news/2026-02-16_cpmr-news.md"
    )
    if not doc_id.strip() or "\\" in doc_id or relative.is_absolute() or ".." in relative.parts:
        raise refused
    if not is_document_path(relative):
        raise refused
    root = corpus_dir.resolve()
    target = (root / relative).resolve()
    if target == root or not target.is_relative_to(root) or target.is_dir():
        raise refused
    return target


def read_bytes(path: Path) -> bytes:
    """A document file's bytes, or a DocumentError that says why they cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(
            f"cannot read the file ({exc.strerror or exc}): check its permissions"
        ) from exc
