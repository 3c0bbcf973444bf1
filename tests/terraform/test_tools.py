"""The format, lint and policy checks, with the tools `bash scripts/terraform-checks.sh install`
builds. A missing tool fails here with that command; it never skips."""

from __future__ import annotations

import os
import subprocess

from tests.terraform import hcl, tools


def run(command: list[str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": os.devnull,
    }
    return subprocess.run(
        command,
        cwd=hcl.TERRAFORM,
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def test_terraform_is_formatted() -> None:
    tofu = tools.require(tools.tofu_path(), f"OpenTofu {tools.TOFU_VERSION}")
    result = run([str(tofu), "fmt", "-check", "-recursive", "-diff", "."])
    assert result.returncode == 0, (
        f"run `tofu fmt -recursive terraform`:\n{result.stdout}{result.stderr}"
    )


def test_tflint_with_the_bundled_rules_finds_nothing() -> None:
    tflint = tools.require(tools.tflint_path(), f"tflint {tools.TFLINT_VERSION}")
    config = hcl.TERRAFORM / ".tflint.hcl"
    result = run([str(tflint), "--recursive", f"--config={config}", "--format=compact"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_finds_nothing_beyond_the_accepted_findings() -> None:
    checkov = tools.require(tools.checkov_path(), f"checkov {tools.CHECKOV_VERSION}")
    result = run(
        [str(checkov), "--directory", ".", "--config-file", ".checkov.yaml", "--output", "cli"],
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Passed checks:" in result.stdout
