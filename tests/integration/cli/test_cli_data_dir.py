"""The CLI on a data directory, as a newcomer runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.api import POLICY
from tests.support.processes import ragops


def test_ingest_then_ask_on_a_data_dir(tmp_path: Path, pdf_dir: Path) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text(POLICY)
    broken = pdf_dir / "format-corpus/pdfCabinetOfHorrors/encryption_openpassword.pdf"
    data = tmp_path / "data"
    ingested = ragops("ingest", "--data-dir", str(data), str(doc), str(broken))
    assert ingested.returncode == 1, "one file failed, so the exit code says so"
    lines = ingested.stdout.splitlines()
    assert any(line.startswith("ready") and "policy.md" in line for line in lines), ingested.stdout
    assert any(
        "failed" in line and "encryption_openpassword.pdf" in line and "encrypted" in line
        for line in lines
    )

    asked = ragops("ask", "--data-dir", str(data), "Where must receipts be uploaded?")
    assert asked.returncode == 0, asked.stderr
    assert "Quillfeather" in asked.stdout
    assert "[1] policy.md, page 1" in asked.stdout


def test_eval_prints_metrics_as_json_on_its_last_line(tmp_path: Path, shared_dir: Path) -> None:
    source = shared_dir / "datasets" / "squad11-dev"
    corpus = [json.loads(line) for line in (source / "corpus.jsonl").read_text().splitlines()[:60]]
    ids = {doc["id"] for doc in corpus}
    qrels = [line.split("\t") for line in (source / "qrels.tsv").read_text().splitlines()[1:]]
    judged = {q: d for q, d, _ in qrels if d in ids}
    queries = [json.loads(line) for line in (source / "queries.jsonl").read_text().splitlines()]
    small = tmp_path / "small"
    small.mkdir()
    (small / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus))
    (small / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in queries if q["id"] in judged)
    )
    (small / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in judged.items())
    )
    assert len(judged) >= 5

    for mode in ("bm25", "hybrid"):
        result = ragops("eval", "--dataset", str(small), "--mode", mode)
        assert result.returncode == 0, result.stderr
        metrics = json.loads(result.stdout.strip().splitlines()[-1])
        assert metrics["mode"] == mode and metrics["queries"] == len(judged)
        assert metrics["recall@10"] >= 0.8, metrics
        assert 0 < metrics["ndcg@10"] <= metrics["recall@10"] + 1e-9 or metrics["ndcg@10"] <= 1
        assert 0 < metrics["mrr@10"] <= 1


def test_eval_refuses_a_folder_without_the_dataset_files(tmp_path: Path) -> None:
    result = ragops("eval", "--dataset", str(tmp_path))
    assert result.returncode == 2
    assert "corpus.jsonl" in result.stdout + result.stderr
