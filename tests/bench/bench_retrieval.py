"""Retrieval quality on the SQuAD DEV set: dense vs BM25 vs hybrid, through `ragops eval`.

Run: python tests/bench/bench_retrieval.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import record  # noqa: E402

DATASET = Path(__file__).resolve().parents[3] / "shared/datasets/squad11-dev"


def main() -> None:
    rows = []
    for mode in ("dense", "bm25", "hybrid"):
        out = subprocess.run(
            [sys.executable, "-m", "ragops_cli", "eval", "--dataset", str(DATASET), "--mode", mode],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(result, flush=True)
        rows.append(result)
    record(
        "retrieval",
        rows,
        notes=(
            "SQuAD v1.1 DEV half (`shared/datasets/squad11-dev`): 300 questions, 1,058 paragraphs "
            "indexed as title + text. Dense: all-MiniLM-L6-v2 int8 ONNX, cosine. BM25: Qdrant's "
            "BM25 (English stemmer and stop words), IDF per tenant. Hybrid: both fused by DBSF in "
            "Qdrant. `query_ms` is embedding + search."
        ),
    )


if __name__ == "__main__":
    main()
