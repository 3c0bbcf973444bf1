"""`.gitlab-ci.yml` without a GitLab runner: its structure (stages, needs, rules, the manual gate
before production), that every script and chart it uses exists here, and that its lint and test
jobs run the very commands of .ci/run (and between them every test `pytest` there runs)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PIPELINE: dict[str, Any] = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
KEYWORDS = {"stages", "workflow", "variables", "default", "include"}
JOBS = {k: v for k, v in PIPELINE.items() if k not in KEYWORDS and not k.startswith(".")}
RELEASE = ("push-ecr", "deploy-staging", "smoke-staging", "approve-production", "production")
# Jobs that can run on this machine, and so must run what .ci/run runs.
LOCAL = ("lint", "unit", "integration")
DEFAULT_BRANCH = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"


def resolved(name: str) -> dict[str, Any]:
    """A job with its `extends` templates merged in, as GitLab does (later wins)."""
    job = PIPELINE[name]
    merged: dict[str, Any] = {}
    parents = job.get("extends", [])
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(resolved(parent))
    merged.update({k: v for k, v in job.items() if k != "extends"})
    return merged


def commands(job: dict[str, Any]) -> list[str]:
    lines = [*job.get("before_script", []), *job.get("script", [])]
    return [part.strip() for line in lines for part in line.split(" && ")]


def ci_run_commands() -> set[str]:
    text = (REPO / ".ci" / "run").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {
        part.strip() for line in lines if not line.startswith("#") for part in line.split(" && ")
    }


def upstream(name: str) -> set[str]:
    found: set[str] = set()
    for need in resolved(name).get("needs", []):
        need = need if isinstance(need, str) else need["job"]
        found |= {need, *upstream(need)}
    return found


def test_every_job_is_in_a_declared_stage_and_needs_only_earlier_jobs() -> None:
    stages = PIPELINE["stages"]
    for name in JOBS:
        job = resolved(name)
        assert job["stage"] in stages, name
        for need in job.get("needs", []):
            need = need if isinstance(need, str) else need["job"]
            assert need in JOBS, f"{name} needs {need}, which is no job"
            assert stages.index(resolved(need)["stage"]) <= stages.index(job["stage"]), (
                f"{name} needs {need} of a later stage"
            )
    assert set(RELEASE) <= set(JOBS)


def test_production_waits_for_a_manual_approval_after_staging_smoke_tests() -> None:
    gate = resolved("approve-production")
    assert gate["rules"] == [{"if": DEFAULT_BRANCH, "when": "manual"}]
    assert gate["allow_failure"] is False, "a skipped approval must block production"
    before = upstream("production")
    assert {"approve-production", "smoke-staging", "deploy-staging", "push-ecr"} <= before
    assert {"trivy", "pip-audit", "checkov", "integration", "unit", "lint"} <= before
    assert "approve-production" not in upstream("deploy-staging")


def test_only_the_default_branch_releases_and_merge_requests_run_the_checks() -> None:
    assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in PIPELINE["workflow"]["rules"]
    for name in RELEASE:
        rules = resolved(name)["rules"]
        assert all(rule["if"] == DEFAULT_BRANCH for rule in rules), name


def test_release_jobs_do_what_the_seed_pipeline_says() -> None:
    def script(name: str) -> str:
        return "\n".join(resolved(name)["script"])

    assert 'scripts/build-image.sh "ragops:$CI_COMMIT_SHA"' in script("build-image")
    assert "trivy image" in script("trivy") and "--exit-code 1" in script("trivy")
    assert "pip-audit" in script("pip-audit")
    assert "charts/ragops-operator" in script("checkov") and "-d terraform" in script("checkov")
    assert PIPELINE["variables"]["IMAGE"] == "$ECR_REGISTRY/ragops:$CI_COMMIT_SHA"
    assert 'docker://$IMAGE"' in script("push-ecr")
    for name in ("deploy-staging", "production"):
        assert "helm upgrade --install ragops-operator charts/ragops-operator" in script(name)
    assert "scripts/smoke-test.sh" in script("smoke-staging")
    assert "scripts/rollout-wait.sh" in script("production")
    assert resolved("production")["resource_group"] == "production", "one release at a time"


def test_every_script_and_chart_the_pipeline_uses_exists() -> None:
    text = (REPO / ".gitlab-ci.yml").read_text()
    used = set(re.findall(r"\b((?:scripts|charts|tests|terraform)/[\w./-]*\w)", text))
    assert used, "the pattern found nothing"
    missing = sorted(path for path in used if not (REPO / path).exists())
    assert missing == []
    charts = {path.split("/")[1] for path in used if path.startswith("charts/")}
    assert charts == {"ragops-operator"}
    assert (REPO / "charts" / "ragops-operator" / "Chart.yaml").is_file(), "no Helm chart there"


@pytest.mark.parametrize("name", LOCAL)
def test_the_lint_and_test_jobs_run_the_commands_of_ci_run(name: str) -> None:
    local = ci_run_commands()
    for command in commands(resolved(name)):
        if shlex.split(command)[0] == ".venv/bin/pytest":
            continue  # split between the jobs: the next test
        # Runner preparation: the pipeline's image lacks what this machine already has.
        if command.startswith("apt-get install"):
            continue
        assert command in local, f"{name}: `{command}` is not what .ci/run runs"


def test_the_test_jobs_run_every_test_of_ci_run_exactly_once() -> None:
    """.ci/run runs `.venv/bin/pytest` (all of tests/); the unit job takes some paths and the
    integration job all of tests/ but those."""
    assert ".venv/bin/pytest" in ci_run_commands()

    def pytest_args(name: str) -> list[str]:
        found = [c for c in commands(resolved(name)) if c.startswith(".venv/bin/pytest")]
        assert len(found) == 1, name
        return [a for a in shlex.split(found[0])[1:] if a != "-q"]

    unit = pytest_args("unit")
    integration = pytest_args("integration")
    assert integration[0] == "tests"
    ignored = [a.removeprefix("--ignore=") for a in integration[1:]]
    assert all(a.startswith("--ignore=") for a in integration[1:])
    assert sorted(ignored) == sorted(unit)
    assert all((REPO / path).is_dir() for path in unit)


def test_every_image_is_pinned() -> None:
    for name in JOBS:
        image = resolved(name).get("image")
        image = image["name"] if isinstance(image, dict) else image
        assert image and ":" in image and not image.endswith(":latest"), (name, image)
