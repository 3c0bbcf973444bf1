"""The backup CronJob, its NetworkPolicies, the restore Job and the spec's backup rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ragops_core.settings import Settings
from ragops_operator.builders import backup, config
from tests.support.builder_specs import OWNER, make_spec, one
from tests.support.pod_security import pod_spec_of, restricted_violations

ENABLED = {"enabled": True, "bucket": "backups-bucket"}


def _env(manifest: dict[str, object]) -> dict[str, object]:
    pod = pod_spec_of(manifest)  # type: ignore[arg-type]
    assert pod is not None
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["containers"][0]["env"]}


def test_nothing_is_rendered_while_backups_are_disabled() -> None:
    assert backup.build(make_spec(), OWNER) == []
    assert backup.build(make_spec(backup={"bucket": "bkt"}), OWNER) == []


def test_cron_job_never_overlaps_and_keeps_bounded_history() -> None:
    spec = make_spec(
        backup={
            **ENABLED,
            "schedule": "30 1 * * *",
            "suspend": True,
            "successfulJobsHistoryLimit": 2,
            "failedJobsHistoryLimit": 5,
            "startingDeadlineSeconds": 600,
            "backoffLimit": 1,
            "activeDeadlineSeconds": 3600,
        }
    )
    cron = one(backup.build(spec, OWNER), "CronJob", "demo-backup")["spec"]
    assert (cron["schedule"], cron["suspend"], cron["concurrencyPolicy"]) == (
        "30 1 * * *",
        True,
        "Forbid",
    )
    assert (
        cron["successfulJobsHistoryLimit"],
        cron["failedJobsHistoryLimit"],
        cron["startingDeadlineSeconds"],
    ) == (2, 5, 600)
    job = cron["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (1, 3600)
    assert job["template"]["spec"]["restartPolicy"] == "Never"


def test_backup_pod_is_restricted_with_a_read_only_root_and_scratch_space() -> None:
    spec = make_spec(
        backup={**ENABLED, "scratchSize": "50Gi"},
        serviceAccount={"iamRoleArn": "arn:aws:iam::123456789012:role/r"},
    )
    cron = one(backup.build(spec, OWNER), "CronJob")
    pod = pod_spec_of(cron)
    assert pod is not None and restricted_violations(pod) == []
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "scratch", "emptyDir": {"sizeLimit": "50Gi"}}]
    # The worker's ServiceAccount carries the IRSA role.
    assert (
        pod["serviceAccountName"] == "demo-worker" and pod["automountServiceAccountToken"] is False
    )
    assert (
        container["args"] == ["backup"]
        and container["terminationMessagePath"] == "/dev/termination-log"
    )


def test_backup_environment_is_the_stack_config_plus_backup_settings_only() -> None:
    spec = make_spec(
        backup={**ENABLED, "prefix": "p", "retentionDays": 30, "keepLast": 10},
        vectorStore={"qdrant": {"apiKeySecretRef": {"name": "qdrant", "key": "api-key"}}},
    )
    cron = one(backup.build(spec, OWNER), "CronJob")
    container = pod_spec_of(cron)["containers"][0]  # type: ignore[index]
    assert container["envFrom"] == [{"configMapRef": {"name": "demo-config"}}]
    env = _env(cron)
    assert env["RAGOPS_BACKUP_BUCKET"] == "backups-bucket" and env["RAGOPS_BACKUP_PREFIX"] == "p"
    assert (env["RAGOPS_BACKUP_NAMESPACE"], env["RAGOPS_BACKUP_NAME"]) == ("tenant-a", "demo")
    assert (env["RAGOPS_BACKUP_RETENTION_DAYS"], env["RAGOPS_BACKUP_KEEP_LAST"]) == ("30", "10")
    assert env["RAGOPS_QDRANT_API_KEY"] == {
        "secretKeyRef": {"name": "qdrant", "key": "api-key", "optional": False}
    }
    assert "RAGOPS_REDIS_URL" not in env, "the backup needs no cache credentials"
    assert env["RAGOPS_CATALOG_URL"] == {
        "secretKeyRef": {"name": "redis", "key": "url", "optional": False}
    }, "the catalog (jobs and documents) is part of every backup"
    known = {config.env_name(field) for field in Settings.model_fields}
    assert set(env) <= known
    # What the operator renders, the services' settings parse.
    Settings(**{k.removeprefix("RAGOPS_").lower(): v for k, v in env.items() if isinstance(v, str)})


def test_network_policies_let_backup_pods_reach_qdrant_s3_and_the_pushgateway() -> None:
    spec = make_spec(backup={**ENABLED, "pushgatewayUrl": "http://pushgateway.monitoring:9091"})
    manifests = backup.network_policies(spec, OWNER)
    own = one(manifests, "NetworkPolicy", "demo-backup")["spec"]
    ports = sorted(p["port"] for rule in own["egress"] for p in rule["ports"])
    assert ports == [443, 6333, 6334, 6379, 9091]  # 6379: the Redis catalog
    to_qdrant = one(manifests, "NetworkPolicy", "demo-qdrant-from-backup")["spec"]
    assert to_qdrant["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "qdrant"
    components = [
        s["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for s in to_qdrant["ingress"][0]["from"]
    ]
    assert components == ["backup", "backup-verify", "restore", "reindex"]
    assert (
        backup.network_policies(make_spec(backup=ENABLED, networkPolicy={"enabled": False}), OWNER)
        == []
    )


@pytest.mark.parametrize(
    ("backup_spec", "restoring", "rendered"),
    [({}, False, False), (ENABLED, False, True), ({"bucket": "bkt"}, True, True)],
)
def test_job_network_policies_exist_while_a_job_may_run(
    backup_spec: dict[str, object], restoring: bool, rendered: bool
) -> None:
    from ragops_operator.builders import stack

    spec = make_spec(
        backup=backup_spec, **({"restore": {"fromSnapshot": "latest"}} if restoring else {})
    )
    names = {
        m["metadata"]["name"]
        for m in stack.desired(spec, OWNER, restoring=restoring)
        if m["kind"] == "NetworkPolicy"
    }
    assert ("demo-backup" in names) is rendered and ("demo-qdrant-from-backup" in names) is rendered


def test_restore_job_runs_once_and_tolerates_a_rerun() -> None:
    assert backup.restore_job(make_spec(), OWNER) is None
    job = backup.restore_job(
        make_spec(backup={"bucket": "bkt"}, restore={"fromSnapshot": "latest"}), OWNER
    )
    assert job is not None and job["kind"] == "Job" and job["metadata"]["name"] == "demo-restore"
    pod = pod_spec_of(job)
    assert pod is not None and restricted_violations(pod) == []
    assert pod["containers"][0]["args"] == ["restore", "--from", "latest", "--if-empty"]


def test_spec_rules_for_backup_and_restore() -> None:
    spec = make_spec().backup
    assert (spec.enabled, spec.schedule, spec.retention_days, spec.suspend) == (
        False,
        "0 3 * * *",
        90,
        False,
    )
    with pytest.raises(ValidationError):
        make_spec(backup={"schedule": "every day"})


def test_cel_rules_are_in_the_schema() -> None:
    from ragops_operator.api import v1alpha1 as api

    backup_rules = [
        r["rule"] for r in api.BackupSpec.model_json_schema()["x-kubernetes-validations"]
    ]
    assert "!self.enabled || has(self.bucket)" in backup_rules
    spec_rules = [
        r["rule"] for r in api.RAGDeploymentSpec.model_json_schema()["x-kubernetes-validations"]
    ]
    assert any("restore.fromSnapshot" in rule for rule in spec_rules)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            (
                '{"time": "2026-06-01T03:00:00Z", "snapshot": "s3://b/p/", '
                '"result": "success", "points": 5}'
            ),
            {
                "time": "2026-06-01T03:00:00Z",
                "snapshot": "s3://b/p/",
                "result": "success",
                "points": 5,
            },
        ),
        ("Traceback (most recent call last): ...", None),
        ('{"result": "maybe"}', None),
        (None, None),
    ],
)
def test_last_backup_status_comes_from_the_termination_message(
    message: str | None, expected: object
) -> None:
    assert backup.last_backup_from_message(message) == expected


def test_reindex_job_runs_the_target_model_into_its_version_under_the_restricted_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragops_operator.api import v1alpha1 as api
    from ragops_operator.builders import reindex as reindex_builder
    from ragops_operator.planning import reindex

    spec = make_spec()
    target = api.EmbeddingModel(provider="openai", model="text-embedding-3-large")
    wanted = reindex.JobWanted(
        "catchup",
        reindex.job_suffix("catchup", reindex.version_of(target)),
        "local-0000aaaa",
        target,
    )
    job = reindex_builder.job(spec, OWNER, wanted)
    assert job["metadata"]["name"] == "demo-" + wanted.suffix
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "reindex"
    pod = pod_spec_of(job)
    assert pod is not None and restricted_violations(pod) == []
    assert pod["containers"][0]["args"] == ["reindex", "--from", "local-0000aaaa", "--switch-alias"]
    env = _env(job)
    assert (
        env["RAGOPS_EMBEDDING_PROVIDER"] == "openai"
        and env["RAGOPS_EMBEDDING_MODEL"] == "text-embedding-3-large"
    )
    assert env["RAGOPS_INDEX_VERSION"] == reindex.version_of(target)
    # What the operator renders, the services' settings parse ("null" unsets the ConfigMap's
    # dimensions).
    monkeypatch.setenv("RAGOPS_EMBEDDING_DIMENSIONS", "512")  # as the stack's ConfigMap could say
    for name, value in env.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
    parsed = Settings()
    assert parsed.embedding_dimensions is None and parsed.index_version == reindex.version_of(
        target
    )


VERIFYING = {**ENABLED, "verify": {"enabled": True, "schedule": "15 6 * * 1"}}


def test_verification_cron_job_runs_backup_verify_on_its_own_schedule() -> None:
    assert [m["metadata"]["name"] for m in backup.build(make_spec(backup=ENABLED), OWNER)] == [
        "demo-backup"
    ], "no verification unless asked for"
    assert (
        backup.build(make_spec(backup={"bucket": "bkt", "verify": {"enabled": True}}), OWNER) == []
    )

    spec = make_spec(
        backup={**VERIFYING, "suspend": True},
        vectorStore={"qdrant": {"apiKeySecretRef": {"name": "qdrant", "key": "api-key"}}},
    )
    cron = one(backup.build(spec, OWNER), "CronJob", "demo-backup-verify")
    assert (cron["spec"]["schedule"], cron["spec"]["suspend"]) == ("15 6 * * 1", True)
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "backup-verify"
    pod = pod_spec_of(cron)
    assert pod is not None and restricted_violations(pod) == []
    container = pod["containers"][0]
    assert container["args"] == ["backup", "verify", "--from", "latest"]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    env = _env(cron)
    assert env["RAGOPS_BACKUP_BUCKET"] == "backups-bucket" and "RAGOPS_QDRANT_API_KEY" in env
    assert "RAGOPS_CATALOG_URL" not in env, "verification never touches the live catalog"


def test_default_verification_schedule_is_weekly() -> None:
    spec = make_spec(backup={**ENABLED, "verify": {"enabled": True}})
    cron = one(backup.build(spec, OWNER), "CronJob", "demo-backup-verify")
    assert cron["spec"]["schedule"] == "0 5 * * 0"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            '{"kind": "verification", "time": "2026-06-01T05:00:00Z", "backup": "s3://b/p/", '
            '"result": "failed", "reason": "ragops-v1: 1 point(s) different (x)"}',
            {
                "time": "2026-06-01T05:00:00Z",
                "backup": "s3://b/p/",
                "result": "failed",
                "reason": "ragops-v1: 1 point(s) different (x)",
            },
        ),
        ('{"time": "t", "snapshot": "s3://b/p/", "result": "success", "points": 5}', None),
        ("Traceback (most recent call last): ...", None),
        (None, None),
    ],
)
def test_last_verification_status_comes_from_the_termination_message(
    message: str | None, expected: object
) -> None:
    assert backup.last_verification_from_message(message) == expected
