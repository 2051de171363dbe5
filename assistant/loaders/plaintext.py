"""Reader for .txt and .md files: optional YAML front matter, then text or markdown."""

from __future__ import annotations

from assistant.errors import DocumentError
from assistant.loaders.decoding import decode_text
from assistant.loaders.extraction import Extraction, Part
from assistant.loaders.markdown import inline_to_text, markdown_to_text
from assistant.loaders.metadata import FrontMatter, find_stamp, first_heading, split_front_matter


def read_text(data: bytes, *, markdown: bool) -> Extraction:
    """Read a plain-text or markdown file; the header's fields win over what the text says."""
    header, body = split_front_matter(decode_text(data))
    if header is not None and not body.strip():
        raise DocumentError("no text below the front-matter header: add the document's text")
    header = header or FrontMatter()
    heading = first_heading(body)
    if markdown:
        body = markdown_to_text(body)
        heading = inline_to_text(heading) if heading else None
    stamp = find_stamp(body)
    return Extraction(
        parts=(Part(body),),
        title=header.title or heading,
        date=header.date or (stamp.date if stamp else None),
        publisher=header.publisher or (stamp.publisher if stamp else None),
        kind=header.kind,
    )
