"""Token checks configured without an issuer or audience: `ragops api` and `ragops serve` refuse
to start, saying which setting is missing, instead of accepting any issuer's or app's tokens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import clean_env


@pytest.mark.parametrize(
    ("command", "variables", "missing"),
    [
        ("api", {}, "RAGOPS_AUTH_ISSUER"),
        ("api", {"RAGOPS_AUTH_ISSUER": "https://idp.example"}, "RAGOPS_AUTH_AUDIENCE"),
        ("serve", {"RAGOPS_AUTH_ISSUER": "https://idp.example"}, "RAGOPS_AUTH_AUDIENCE"),
    ],
)
def test_token_checks_without_issuer_or_audience_do_not_start(
    tmp_path: Path, command: str, variables: dict[str, str], missing: str
) -> None:
    env = clean_env(
        RAGOPS_AUTH_JWKS_URL="https://idp.example/.well-known/jwks.json",
        RAGOPS_DATA_DIR=str(tmp_path / "data"),
        **variables,
    )
    done = subprocess.run(
        [sys.executable, "-m", "ragops_cli", command, "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "invalid configuration" in done.stderr and missing in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists(), "refused before anything is opened"
