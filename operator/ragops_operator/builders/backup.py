"""Backups of the stack's vector store and catalog: a CronJob running `ragops backup`, another
running `ragops backup verify` (`spec.backup.verify`), the NetworkPolicies their pods need, and
the one-shot restore Job of `spec.restore`.

The pods run as the worker's ServiceAccount (`{name}-worker`), which carries the IRSA role, so
one IAM role covers documents and backups; grant it s3:PutObject, GetObject, ListBucket and
DeleteObject (retention) on the backup prefix. They read the stack's ConfigMap (Qdrant URL,
embedding model) plus `RAGOPS_BACKUP_*`, and write their result as the container's termination
message, `{time, snapshot, result, points}`, which `last_backup_from_message` parses for status
(a verification writes `{kind: verification, time, backup, result, reason}`, parsed by
`last_verification_from_message`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import aws, config, network, pods, qdrant
from ragops_operator.builders.labels import (
    COMPONENT_QDRANT,
    Owner,
    labels,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

COMPONENT_BACKUP = "backup"
COMPONENT_VERIFY = "backup-verify"
COMPONENT_RESTORE = "restore"
COMPONENT_REINDEX = "reindex"
SCRATCH_DIR = "/tmp"
TERMINATION_LOG = "/dev/termination-log"
PUSHGATEWAY_PORT = 9091


def backup_env(
    spec: api.RAGDeploymentSpec, owner: Owner, *, catalog: bool = True
) -> list[dict[str, Any]]:
    """`RAGOPS_BACKUP_*` (names from the services' Settings), the Qdrant API key and, for a
    backup or a restore, the catalog's Redis URL (jobs and documents are part of a backup).
    Never the language models' credentials; a verification restores the catalog into a scratch
    file and gets no Redis URL at all."""
    b = spec.backup
    values: dict[str, Any] = {
        "backup_bucket": b.bucket,
        "backup_prefix": b.prefix,
        "backup_namespace": owner.namespace,
        "backup_name": owner.name,
        "backup_kms_key_id": b.kms_key_id,
        "backup_format": b.format,
        "backup_retention_days": b.retention_days,
        "backup_keep_at_least": b.keep_at_least,
        "backup_keep_last": b.keep_last,
        "backup_pushgateway_url": b.pushgateway_url,
        "backup_termination_log": TERMINATION_LOG,
    }
    env = [
        {"name": config.env_name(k), "value": str(v)} for k, v in values.items() if v is not None
    ]
    # S3 is where backups go: `spec.aws`'s static credentials too, when set.
    wanted = {config.env_name("qdrant_api_key"), *aws.CREDENTIAL_NAMES}
    if catalog:
        wanted.add(config.env_name("catalog_url"))
    return env + [entry for entry in config.secret_env(spec) if entry["name"] in wanted]


def _container(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    name: str,
    args: list[str],
    catalog: bool = True,
) -> dict[str, Any]:
    return {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        "args": args,
        "envFrom": [{"configMapRef": {"name": owner.child_name("config")}}],
        "env": backup_env(spec, owner, catalog=catalog),
        # The dump fills the scratch volume: the scheduler must find a node with room for it.
        "resources": pods.resources(
            spec.backup.resources, ephemeral=pods.scratch_request(scratch_volumes(spec))
        ),
        "securityContext": pods.container_security_context(),
        "terminationMessagePath": TERMINATION_LOG,
        # Our JSON when the command wrote it; the log's tail when it died before (e.g. OOM).
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "scratch", "mountPath": SCRATCH_DIR}],
    }


def job_template(
    owner: Owner, component: str, container: dict[str, Any], volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The pod of the stack's one-shot Jobs (backup, restore, reindex): run once as the worker's
    ServiceAccount, which carries the IRSA role, under the restricted Pod Security Standard."""
    return {
        "metadata": {"labels": labels(owner, component)},
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": owner.child_name("worker"),
            # The pod never calls the Kubernetes API; IRSA mounts its own projected token.
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": pods.pod_security_context(),
            "containers": [container],
            "volumes": volumes,
        },
    }


def scratch_volumes(spec: api.RAGDeploymentSpec) -> list[dict[str, Any]]:
    """The dump lands in scratch before upload (and downloads before a restore): the root is
    read-only."""
    return [{"name": "scratch", "emptyDir": {"sizeLimit": spec.backup.scratch_size}}]


def _job_spec(
    spec: api.RAGDeploymentSpec, owner: Owner, component: str, container: dict[str, Any]
) -> dict[str, Any]:
    b = spec.backup
    scratch = scratch_volumes(spec)
    return {
        "backoffLimit": b.backoff_limit,
        "activeDeadlineSeconds": b.active_deadline_seconds,
        "template": job_template(owner, component, container, scratch),
    }


def cron_job(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    b = spec.backup
    container = _container(spec, owner, name="backup", args=["backup"])
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(owner, owner.child_name("backup"), COMPONENT_BACKUP),
        "spec": {
            "schedule": b.schedule,
            "timeZone": b.time_zone,
            "suspend": b.suspend,
            # Two backups at once would race on retention and double the load on Qdrant.
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": b.starting_deadline_seconds,
            "successfulJobsHistoryLimit": b.successful_jobs_history_limit,
            "failedJobsHistoryLimit": b.failed_jobs_history_limit,
            "jobTemplate": {
                "metadata": {"labels": labels(owner, COMPONENT_BACKUP)},
                "spec": _job_spec(spec, owner, COMPONENT_BACKUP, container),
            },
        },
    }


def verify_cron_job(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    """`{name}-backup-verify`: `ragops backup verify` on its own schedule. It restores the newest
    backup into a scratch collection on the stack's Qdrant (deleted afterwards), so it needs the
    backup's scratch space and resources; its pod exits 1 when the backup does not match."""
    b = spec.backup
    container = _container(
        spec, owner, name="verify", args=["backup", "verify", "--from", "latest"], catalog=False
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(owner, owner.child_name(COMPONENT_VERIFY), COMPONENT_VERIFY),
        "spec": {
            "schedule": b.verify.schedule,
            "timeZone": b.time_zone,
            "suspend": b.suspend,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": b.starting_deadline_seconds,
            "successfulJobsHistoryLimit": b.successful_jobs_history_limit,
            "failedJobsHistoryLimit": b.failed_jobs_history_limit,
            "jobTemplate": {
                "metadata": {"labels": labels(owner, COMPONENT_VERIFY)},
                # No retry: a verification that found a difference would find it again.
                "spec": {
                    **_job_spec(spec, owner, COMPONENT_VERIFY, container),
                    "backoffLimit": 0,
                },
            },
        },
    }


def restore_job(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj | None:
    """The Job `{name}-restore` for `spec.restore`; None without one.

    `--if-empty` makes a re-run (a retried pod, a re-created Job) succeed without loading the
    backup twice; the API should be Ready only once this Job has succeeded.
    """
    if spec.restore is None:
        return None
    args = ["restore", "--from", spec.restore.from_snapshot, "--if-empty"]
    container = _container(spec, owner, name="restore", args=args)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(owner, owner.child_name("restore"), COMPONENT_RESTORE),
        "spec": _job_spec(spec, owner, COMPONENT_RESTORE, container),
    }


def _pods(owner: Owner, component: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": selector_labels(owner, component)}}


def _qdrant_ports() -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in (qdrant.HTTP_PORT, qdrant.GRPC_PORT)]


JOB_COMPONENTS = (COMPONENT_BACKUP, COMPONENT_VERIFY, COMPONENT_RESTORE, COMPONENT_REINDEX)


def network_policies(spec: api.RAGDeploymentSpec, owner: Owner) -> list[Obj]:
    """Backup, verification, restore and reindex pods -> Qdrant, HTTPS (S3, the embedding API)
    and `spec.aws`'s endpoint ports, Redis (the catalog a backup reads and a restore writes)
    and the Pushgateway; Qdrant admits them. Rendered while any of those Jobs may run.

    A second policy on the Qdrant pods rather than an edit of network.py's: policies add up."""
    if not spec.network_policy.enabled:
        return []
    jobs = [_pods(owner, component) for component in JOB_COMPONENTS]
    egress: list[dict[str, Any]] = [
        {"to": [_pods(owner, COMPONENT_QDRANT)], "ports": _qdrant_ports()},
        {
            "ports": [
                {"protocol": "TCP", "port": port}
                for port in (network.HTTPS_PORT, network.REDIS_PORT, *aws.endpoint_ports(spec))
            ]
        },
    ]
    if spec.backup.pushgateway_url:
        port = urlsplit(spec.backup.pushgateway_url).port or PUSHGATEWAY_PORT
        egress.append({"ports": [{"protocol": "TCP", "port": port}]})
    own = {
        "podSelector": {
            "matchExpressions": [
                {
                    "key": "app.kubernetes.io/component",
                    "operator": "In",
                    "values": list(JOB_COMPONENTS),
                }
            ],
            "matchLabels": {
                "app.kubernetes.io/name": "ragops",
                "app.kubernetes.io/instance": owner.name,
            },
        },
        "policyTypes": ["Ingress", "Egress"],
        "egress": egress,
    }
    to_qdrant = {
        "podSelector": {"matchLabels": selector_labels(owner, COMPONENT_QDRANT)},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": jobs, "ports": _qdrant_ports()}],
    }
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(owner, owner.child_name("backup"), COMPONENT_BACKUP),
            "spec": own,
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(owner, owner.child_name("qdrant-from-backup"), COMPONENT_QDRANT),
            "spec": to_qdrant,
        },
    ]


def build(spec: api.RAGDeploymentSpec, owner: Owner) -> list[Obj]:
    """The CronJob when backups are enabled, and the verification's when `verify` is too; []
    otherwise (their NetworkPolicies: `network_policies`).

    The restore Job is separate (`restore_job`): it belongs to a stack's first start, not to
    the schedule."""
    if not spec.backup.enabled:
        return []
    verify = [verify_cron_job(spec, owner)] if spec.backup.verify.enabled else []
    return [cron_job(spec, owner), *verify]


def restore_build(spec: api.RAGDeploymentSpec, owner: Owner, *, restoring: bool) -> list[Obj]:
    """The restore Job while a restore is wanted (its NetworkPolicies: `network_policies`)."""
    job = restore_job(spec, owner) if restoring else None
    return [] if job is None else [job]


def last_backup_from_message(message: str | None) -> dict[str, Any] | None:
    """`status.lastBackup` from a backup pod's termination message; None if it is not ours
    (e.g. the log tail of a pod that was killed before it could write one)."""
    if not message:
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("result") not in ("success", "failure"):
        return None
    return {key: data.get(key) for key in ("time", "snapshot", "result", "points")}


def last_verification_from_message(message: str | None) -> dict[str, Any] | None:
    """`status.lastBackupVerification` from a verification pod's termination message; None if
    it is not one (a backup's report, or the log tail of a pod killed before writing one)."""
    if not message:
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or data.get("kind") != "verification"
        or data.get("result") not in ("ok", "failed")
    ):
        return None
    return {key: data.get(key) for key in ("time", "backup", "result", "reason")}
