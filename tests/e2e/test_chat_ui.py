"""The chat page: its Vitest suite, then the browser tests against a real `ragops serve` (open, and
signed in).

Builds the page first (npm ci, npm run build), so `ragops serve` serves it at `/`.
Needs Node >= 20.19 with npm and Debian's chromium (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "services" / "chat-ui"


def run(
    command: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed "
            f"({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def built_ui() -> Path:
    for tool, hint in (
        ("node", "install Node.js >= 20.19"),
        ("npm", "install npm"),
        ("chromium", "apt-get install chromium chromium-driver"),
    ):
        if shutil.which(tool) is None and not (
            tool == "chromium" and Path("/usr/bin/chromium").exists()
        ):
            pytest.fail(f"{tool} not found: {hint} (scripts/install-system-deps.sh)", pytrace=False)
    run(["npm", "ci", "--no-audit", "--no-fund"], cwd=UI, timeout=600)
    run(["npm", "run", "build"], cwd=UI, timeout=600)
    return REPO / "services" / "ragops_api" / "static" / "chat"


def test_component_and_state_tests_pass(built_ui: Path) -> None:
    run(["npm", "test"], cwd=UI, timeout=600)


def test_person_uploads_asks_rates_and_deletes_in_a_real_browser(
    built_ui: Path, tmp_path: Path, shared_dir: Path
) -> None:
    ragops = Path(sys.executable).with_name("ragops")
    run(
        ["node", str(REPO / "tests" / "e2e" / "chat_ui.e2e.mjs")],
        cwd=REPO,
        timeout=600,
        env={
            "RAGOPS_BIN": str(ragops if ragops.exists() else "ragops"),
            "RAGOPS_E2E_REQUIRE_SERVED_UI": "1",
            "RAGOPS_SHARED_DIR": str(shared_dir / "datasets"),
            "RAGOPS_E2E_OUT": str(REPO / "test-output" / "e2e"),
        },
    )
    assert (REPO / "test-output" / "e2e" / "timings.json").is_file()


def test_person_signs_in_through_cognito_and_keeps_working_across_token_refreshes(
    built_ui: Path, shared_dir: Path
) -> None:
    # A fake hosted UI (cognito_fake.py: PKCE-checked code exchange, 10 s tokens, refresh, logout)
    # and a `ragops serve` that requires its JWTs; the page signs in, uploads, asks, signs out.
    ragops = Path(sys.executable).with_name("ragops")
    run(
        ["node", str(REPO / "tests" / "e2e" / "chat_ui_auth.e2e.mjs")],
        cwd=REPO,
        timeout=600,
        env={
            "RAGOPS_BIN": str(ragops if ragops.exists() else "ragops"),
            "RAGOPS_PYTHON": sys.executable,
            "RAGOPS_SHARED_DIR": str(shared_dir / "datasets"),
            "RAGOPS_E2E_OUT": str(REPO / "test-output" / "e2e-auth"),
        },
    )
    assert (REPO / "test-output" / "e2e-auth" / "05-signed-out.png").is_file()
