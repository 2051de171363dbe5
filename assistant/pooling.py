"""Mean pooling of a text's token vectors over character spans ("late chunking").

The encoder already computes a vector for every token of a chunk and averages them into the
chunk's vector. Averaging only the tokens that fall inside one sentence of the chunk gives that
sentence a vector read in its context, from the same forward pass: no second encode. Both
embedding backends (ONNX Runtime and torch) call this one function with their token outputs and
the tokenizer's offset mapping, so they agree. Pure numpy, imported by the encoders.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Spans = Sequence[tuple[int, int]]


def pool_spans(
    hidden: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Spans
) -> list[np.ndarray | None]:
    """The unit-length mean of the token vectors inside each character span, in order.

    Args:
        hidden: (tokens, dimension) token vectors of one text.
        offsets: (tokens, 2) character (start, end) of each token in the text; special tokens
            ([CLS], [SEP], padding) have an empty range and belong to no span.
        mask: (tokens,) 1 for a real token, 0 for padding.
        spans: (start, end) character ranges within the text.

    A token belongs to the span its first character is in. A span with no token (its text lies
    past the model's window, where the tokenizer truncated) gets None: the caller encodes it on
    its own.
    """
    starts = offsets[:, 0]
    real = (mask > 0) & (offsets[:, 1] > offsets[:, 0])
    out: list[np.ndarray | None] = []
    for start, end in spans:
        inside = real & (starts >= start) & (starts < end)
        if not inside.any():
            out.append(None)
            continue
        vector = hidden[inside].astype(np.float32).mean(axis=0)
        out.append(vector / max(float(np.linalg.norm(vector)), 1e-12))
    return out
