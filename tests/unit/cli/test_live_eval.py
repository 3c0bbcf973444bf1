"""`ragops eval --url`'s bounds on what it reads (live_eval.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops_cli import live_eval


def test_a_questions_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"question": "q"}\n' * (live_eval.MAX_QUESTIONS_BYTES // 18 + 1))
    with pytest.raises(live_eval.UsageError, match="larger than"):
        live_eval.read_questions(str(big))
    (tmp_path / "latin1.jsonl").write_bytes(b'{"question": "caf\xe9"}\n')
    with pytest.raises(live_eval.UsageError, match="not UTF-8"):
        live_eval.read_questions(str(tmp_path / "latin1.jsonl"))
    with pytest.raises(live_eval.UsageError, match="cannot read questions"):
        live_eval.read_questions(str(tmp_path / "missing.jsonl"))


def test_usage_errors_exit_2_with_a_summary_that_names_them(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "q"}\n')
    lines: list[str] = []
    options = live_eval.Options(
        url="http://127.0.0.1:9",
        questions=str(questions),
        regressions=("answer_hit=0.1",),
        summary_file=tmp_path / "summary.json",
    )
    assert live_eval.run(options, lines.append) == 2
    assert "needs --baseline-url or --baseline" in lines[-1]
    assert (tmp_path / "summary.json").read_text() == lines[-1]
    assert '"answer_hit":null' in lines[-1]  # every metric key, unknown
