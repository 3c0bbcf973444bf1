"""Retrieval quality on a BEIR-style dataset: recall@k, nDCG@k and MRR@k.

The metric functions are pure; `load_dataset` reads corpus.jsonl, queries.jsonl
and qrels.tsv as laid out in BEIR (and in shared/datasets/squad11-dev).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Dataset:
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}


def load_dataset(directory: Path) -> Dataset:
    missing = [
        name
        for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")
        if not (directory / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {', '.join(missing)} (BEIR layout expected)")
    corpus: dict[str, tuple[str, str]] = {}
    for line in (directory / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            corpus[str(row["id"] if "id" in row else row["_id"])] = (
                str(row.get("title", "")),
                str(row["text"]),
            )
    queries: dict[str, str] = {}
    for line in (directory / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries[str(row["id"] if "id" in row else row["_id"])] = str(row["text"])
    qrels: dict[str, dict[str, int]] = {}
    with (directory / "qrels.tsv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return Dataset(
        corpus=corpus, queries={q: t for q, t in queries.items() if q in qrels}, qrels=qrels
    )


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {doc for doc, rel in relevant.items() if rel > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    gains = sorted((rel for rel in relevant.values() if rel > 0), reverse=True)
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    actual = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    return actual / ideal if ideal else 0.0


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def summarise(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10
) -> dict[str, float]:
    """Mean metrics over the queries of `qrels`; a query without a run counts as a miss."""
    n = len(qrels) or 1
    return {
        f"recall@{k}": round(
            sum(recall_at(runs.get(q, []), rel, k) for q, rel in qrels.items()) / n, 4
        ),
        f"ndcg@{k}": round(
            sum(ndcg_at(runs.get(q, []), rel, k) for q, rel in qrels.items()) / n, 4
        ),
        f"mrr@{k}": round(sum(mrr_at(runs.get(q, []), rel, k) for q, rel in qrels.items()) / n, 4),
    }
