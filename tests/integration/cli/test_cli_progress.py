"""Progress a user watches: the ingest bar on a terminal, `ragops eval`'s lines without one."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import ragops

PDF = "format-corpus/govdocs1-error-pdfs/error_set_2/268346.pdf"  # 20 pages, about 40 chunks
PAGES = 20
DEADLINE_SECONDS = 300.0
# The bar's "done/total" column, right before the elapsed time.
POSITION = re.compile(r"(\d+)/(\d+) +\d+:\d\d:\d\d")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, cursor moves


def run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """`ragops ARGS` with a pseudo-terminal as stdout and stderr, as a user runs it."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ragops_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child exited and closed the terminal
                break
            if not chunk:
                break
            output += chunk
        return process.wait(timeout=60), ESCAPES.sub("", output.decode(errors="replace"))
    finally:
        process.kill()
        os.close(controller)


def test_the_ingest_bar_counts_pages_from_the_start(tmp_path: Path, pdf_dir: Path) -> None:
    code, output = run_in_terminal(
        ["ingest", "--data-dir", str(tmp_path / "data"), str(pdf_dir / PDF)], cwd=tmp_path
    )
    assert code == 0, output
    assert "ready" in output, output
    positions = [(int(done), int(total)) for done, total in POSITION.findall(output)]
    assert len(positions) >= 2, output
    assert {total for _, total in positions} == {PAGES}, positions
    done = [done for done, _ in positions]
    assert done == sorted(done), positions


def test_eval_without_a_terminal_prints_progress_lines(tmp_path: Path, shared_dir: Path) -> None:
    source = shared_dir / "datasets" / "squad11-dev"
    corpus = [json.loads(line) for line in (source / "corpus.jsonl").read_text().splitlines()[:80]]
    ids = {doc["id"] for doc in corpus}
    qrels = [line.split("\t") for line in (source / "qrels.tsv").read_text().splitlines()[1:]]
    judged = {q: d for q, d, _ in qrels if d in ids}
    queries = [json.loads(line) for line in (source / "queries.jsonl").read_text().splitlines()]
    dataset = tmp_path / "small"
    dataset.mkdir()
    (dataset / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus))
    (dataset / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in queries if q["id"] in judged)
    )
    (dataset / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in judged.items())
    )

    result = ragops("eval", "--dataset", str(dataset), "--mode", "bm25")
    assert result.returncode == 0, result.stderr
    asked = [
        tuple(map(int, line.rsplit(" ", 1)[1].split("/")))
        for line in result.stderr.splitlines()
        if line.startswith("asking queries: ")
    ]
    assert len(asked) >= 5, result.stderr
    assert asked[-1] == (len(judged), len(judged)), asked
    assert [done for done, _ in asked] == sorted(done for done, _ in asked)
    assert any(line.startswith("indexing corpus: ") for line in result.stderr.splitlines())
    assert json.loads(result.stdout.strip().splitlines()[-1])["queries"] == len(judged)
