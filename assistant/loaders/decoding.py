"""Bytes to text for the text formats, refusing binary files and unknown encodings.

Text files are read as UTF-8 (a byte-order mark is allowed; UTF-16 is accepted only with its
byte-order mark, which is how Windows editors save "Unicode" text). Anything else is refused
with a message that says to re-save the file as UTF-8, rather than guessed: a legacy encoding
guessed wrong (cp1251 for KOI8-R, Latin-1 for cp1252) indexes mojibake that no question will
ever match and that the assistant would quote back as garbage. HTML is the exception the web
made: a page that declares its charset in a `<meta>` tag is decoded with the charset it states.
"""

from __future__ import annotations

import codecs
import re

from assistant.errors import DocumentError

_CONTROL_LIMIT = 0.10
_SAMPLE = 4096
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_BINARY_BYTES = frozenset([*range(0, 9), *range(14, 32), 127])


def _binary_error(detail: str) -> DocumentError:
    return DocumentError(
        f"binary content in a text file ({detail}): this is not plain text; "
        "save the document as .txt, .md, .html or .pdf with the matching extension"
    )


def _control_share(text: str) -> float:
    sample = text[:_SAMPLE]
    if not sample:
        return 0.0
    return len(_CONTROL.findall(sample)) / len(sample)


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML/XML page declares near its top, if it names a known codec."""
    head = data[:_SAMPLE]
    match = _HTML_CHARSET.search(head) or _XML_ENCODING.search(head)
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(data: bytes, *, declared: str | None = None) -> str:
    """Decode the bytes of a text file.

    Args:
        data: the raw file.
        declared: a charset the file itself states (HTML only), tried when UTF-8 fails.

    Raises:
        DocumentError: binary content, or bytes that are not valid in the file's encoding.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                "broken UTF-16 text: save the file as UTF-8 and add it again"
            ) from exc
    elif b"\x00" in data:
        raise _binary_error("NUL bytes")
    else:
        text = _decode_8bit(data, declared)
    if _control_share(text) > _CONTROL_LIMIT:
        raise _binary_error("mostly control characters")
    return text


def _decode_8bit(data: bytes, declared: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if declared and declared != "utf-8":
            try:
                return data.decode(declared)
            except UnicodeDecodeError:
                pass
        sample = data[:_SAMPLE]
        if sum(1 for byte in sample if byte in _BINARY_BYTES) > _CONTROL_LIMIT * len(sample):
            raise _binary_error("mostly control bytes") from exc
        raise DocumentError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save the file as UTF-8 and add it again"
        ) from exc
