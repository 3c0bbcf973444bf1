"""Qdrant in distributed mode: a StatefulSet with one volume per peer, a client Service, a
headless Service for peer discovery, a PodDisruptionBudget, a ServiceAccount and, when asked
for, a memory-based HorizontalPodAutoscaler.

Volumes follow `deletionPolicy` through the StatefulSet's `persistentVolumeClaimRetentionPolicy`,
so Kubernetes itself deletes (or keeps) them and the operator needs no finalizer. What a peer
added by scale-out holds is documented in docs/operator.md ("Qdrant scale-out").
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import pods, workloads
from ragops_operator.builders.labels import (
    COMPONENT_QDRANT,
    PART_OF,
    Owner,
    image_tag,
    labels,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

HTTP_PORT = 6333
GRPC_PORT = 6334
P2P_PORT = 6335
# Qdrant's `-unprivileged` images run as uid 1000 and own /qdrant as that user; the plain image
# runs as root. The pod always runs as 1000, so with the read-only root filesystem below the
# `-unprivileged` tag variant is the one expected (the plain image works too, as long as every
# path it writes is one of the mounts below).
QDRANT_UID = 1000
STORAGE_PATH = "/qdrant/storage"
SNAPSHOTS_PATH = "/qdrant/snapshots"
INIT_DIR = "/qdrant/init"
VOLUME_NAME = "storage"
SNAPSHOTS = "snapshots"
# On the StatefulSet: the hash of its pod template without the snapshots limit.
TEMPLATE_ANNOTATION = "ragops.dev/qdrant-template-hash"


def name(owner: Owner) -> str:
    return owner.child_name("qdrant")


def headless_name(owner: Owner) -> str:
    return owner.child_name("qdrant-headless")


def peer_url(owner: Owner, ordinal: int | str) -> str:
    """The p2p URI of one peer: stable across restarts because the headless Service gives every
    StatefulSet pod its own DNS name."""
    return f"http://{name(owner)}-{ordinal}.{headless_name(owner)}:{P2P_PORT}"


def _entrypoint(owner: Owner) -> str:
    """Peer 0 founds the cluster; every other peer joins through it. Once a peer has Raft state on
    its volume, Qdrant ignores `--bootstrap`, so restarts (of peer 0 too) rejoin the existing
    cluster instead of founding a new one."""
    own = f"http://${{POD_NAME}}.{headless_name(owner)}:{P2P_PORT}"
    return "\n".join(
        [
            "set -e",
            'if [ "${POD_NAME##*-}" = "0" ]; then',
            f'  exec /qdrant/entrypoint.sh --uri "{own}"',
            "fi",
            f'exec /qdrant/entrypoint.sh --uri "{own}" --bootstrap "{peer_url(owner, 0)}"',
        ]
    )


def _env(spec: api.QdrantSpec) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "QDRANT__CLUSTER__ENABLED", "value": "true"},
        {"name": "QDRANT__CLUSTER__P2P__PORT", "value": str(P2P_PORT)},
        {"name": "QDRANT__SERVICE__HTTP_PORT", "value": str(HTTP_PORT)},
        {"name": "QDRANT__SERVICE__GRPC_PORT", "value": str(GRPC_PORT)},
        {"name": "QDRANT__STORAGE__STORAGE_PATH", "value": STORAGE_PATH},
        {"name": "QDRANT__STORAGE__SNAPSHOTS_PATH", "value": SNAPSHOTS_PATH},
        # Server-side default for collections created without an explicit factor; shard counts
        # have no server default (Qdrant uses the peer count), so clients pass `shards`.
        {
            "name": "QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR",
            "value": str(spec.replication_factor),
        },
        # The NetworkPolicies allow no egress to telemetry.qdrant.io; do not try.
        {"name": "QDRANT__TELEMETRY_DISABLED", "value": "true"},
        # Qdrant writes an "initialized" marker into its working directory, which is read-only here.
        {"name": "QDRANT_INIT_FILE_PATH", "value": f"{INIT_DIR}/.qdrant-initialized"},
    ]
    if spec.api_key_secret_ref is not None:
        ref = spec.api_key_secret_ref
        env.append(
            {
                "name": "QDRANT__SERVICE__API_KEY",
                "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}},
            }
        )
    return env


def _container(spec: api.QdrantSpec, owner: Owner, snapshots_limit: str) -> dict[str, Any]:
    return {
        "name": "qdrant",
        "image": spec.image,
        "command": ["/bin/sh", "-c", _entrypoint(owner)],
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"},
            {"name": "p2p", "containerPort": P2P_PORT, "protocol": "TCP"},
        ],
        "env": _env(spec),
        "resources": pods.resources(
            spec.resources,
            ephemeral=pods.scratch_request(_volumes(snapshots_limit), burst=(SNAPSHOTS,)),
        ),
        "readinessProbe": pods.http_probe("/readyz", "http", period=5),
        "livenessProbe": pods.http_probe("/livez", "http", period=10, failures=6),
        # Loading large collections from disk happens before the HTTP server answers.
        "startupProbe": pods.http_probe("/livez", "http", period=10, failures=90),
        "securityContext": pods.container_security_context(),
        "volumeMounts": [
            {"name": VOLUME_NAME, "mountPath": STORAGE_PATH},
            {"name": SNAPSHOTS, "mountPath": SNAPSHOTS_PATH},
            {"name": "init", "mountPath": INIT_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def _volumes(snapshots_limit: str) -> list[dict[str, Any]]:
    """A snapshot (taken through Qdrant's API, or by a shard transfer) copies at most the peer's
    data, so the volume size bounds it: a bigger one is the kubelet evicting this pod, never a
    full node disk evicting its neighbours. It is not requested: it fills only while a snapshot
    is taken, and reserving the volume size on the node for every peer would keep large peers
    from being scheduled at all (docs/operator.md, "Ephemeral storage")."""
    return [
        {"name": SNAPSHOTS, "emptyDir": {"sizeLimit": snapshots_limit}},
        {"name": "init", "emptyDir": {"sizeLimit": "1Mi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
    ]


def _affinity(selector: dict[str, str]) -> dict[str, Any]:
    """Never two peers on one node (a node loss would take several replicas of a shard);
    zones are preferred rather than required, so a single-zone cluster still schedules."""

    def term(topology_key: str) -> dict[str, Any]:
        return {"labelSelector": {"matchLabels": dict(selector)}, "topologyKey": topology_key}

    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term(pods.HOST_KEY)],
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term(pods.ZONE_KEY)}
            ],
        }
    }


def _pod_template(spec: api.QdrantSpec, owner: Owner, snapshots_limit: str) -> dict[str, Any]:
    selector = selector_labels(owner, COMPONENT_QDRANT)
    return {
        "metadata": {"labels": labels(owner, COMPONENT_QDRANT, version=image_tag(spec.image))},
        "spec": {
            "serviceAccountName": name(owner),
            "automountServiceAccountToken": False,
            # Service links would inject `*_PORT=tcp://...` variables; Qdrant reads QDRANT_* ones.
            "enableServiceLinks": False,
            "securityContext": {
                **pods.pod_security_context(uid=QDRANT_UID),
                # A large volume re-chowned on every start would delay each restart by minutes.
                "fsGroupChangePolicy": "OnRootMismatch",
            },
            "affinity": _affinity(selector),
            "containers": [_container(spec, owner, snapshots_limit)],
            "volumes": _volumes(snapshots_limit),
        },
    }


def _volume_claim_template(spec: api.QdrantSpec, owner: Owner) -> dict[str, Any]:
    # No `managed-by` label: the operator prunes objects carrying it, and volumes must only ever
    # go through the retention policy.
    pvc_labels = {**selector_labels(owner, COMPONENT_QDRANT), "app.kubernetes.io/part-of": PART_OF}
    return {
        "metadata": {"name": VOLUME_NAME, "labels": pvc_labels},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": spec.storage.storage_class_name,
            "resources": {"requests": {"storage": spec.storage.size}},
        },
    }


def _template_hash(spec: api.QdrantSpec, owner: Owner) -> str:
    """The pod template with the snapshots limit left out: what, besides that limit, the peers
    run."""
    encoded = json.dumps(_pod_template(spec, owner, ""), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def snapshots_limit(spec: api.QdrantSpec, owner: Owner, live: Obj | None) -> str:
    """The snapshots emptyDir's sizeLimit: the volume size, except that a running StatefulSet
    whose pod template is otherwise unchanged keeps its own. Growing the volumes would otherwise
    change the pod template and restart every peer, which growing promises not to do; the limit
    catches up the next time the peers restart for another change."""
    if live is None or (live["metadata"].get("annotations") or {}).get(
        TEMPLATE_ANNOTATION
    ) != _template_hash(spec, owner):
        return spec.storage.size
    for volume in live["spec"]["template"]["spec"].get("volumes") or []:
        if volume.get("name") == SNAPSHOTS and (volume.get("emptyDir") or {}).get("sizeLimit"):
            return str(volume["emptyDir"]["sizeLimit"])
    return spec.storage.size


def stateful_set(spec: api.QdrantSpec, owner: Owner, *, live: Obj | None = None) -> Obj:
    """`replicas` is left out when the HPA owns it: setting it too would fight the HPA.
    `live` is the running StatefulSet, if any (see `snapshots_limit`)."""
    body: dict[str, Any] = {
        "serviceName": headless_name(owner),
        # Peers must all start to form a cluster; ordered start would wait on an unready peer 0.
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": selector_labels(owner, COMPONENT_QDRANT)},
        "updateStrategy": {"type": "RollingUpdate"},
        "persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": spec.deletion_policy,
            "whenScaled": "Retain",
        },
        "template": _pod_template(spec, owner, snapshots_limit(spec, owner, live)),
        "volumeClaimTemplates": [_volume_claim_template(spec, owner)],
    }
    if not spec.autoscaling.enabled:
        body = {"replicas": spec.replicas, **body}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(
            owner,
            name(owner),
            COMPONENT_QDRANT,
            annotations={TEMPLATE_ANNOTATION: _template_hash(spec, owner)},
        ),
        "spec": body,
    }


def _port(port_name: str, port: int) -> dict[str, Any]:
    return {"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}


def service(owner: Owner) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(owner, name(owner), COMPONENT_QDRANT),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(owner, COMPONENT_QDRANT),
            "ports": [_port("http", HTTP_PORT), _port("grpc", GRPC_PORT)],
        },
    }


def headless_service(owner: Owner) -> Obj:
    """Peers must resolve each other before they are ready: readiness waits on the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(owner, headless_name(owner), COMPONENT_QDRANT),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector_labels(owner, COMPONENT_QDRANT),
            "ports": [_port("http", HTTP_PORT), _port("grpc", GRPC_PORT), _port("p2p", P2P_PORT)],
        },
    }


def service_account(owner: Owner) -> Obj:
    """Qdrant needs no Kubernetes or AWS identity: no token, no IRSA annotation."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(owner, name(owner), COMPONENT_QDRANT),
        "automountServiceAccountToken": False,
    }


def autoscaler(spec: api.QdrantSpec, owner: Owner) -> Obj:
    """Scale-out only. Removing a peer that holds shards would make them unavailable (or lose
    them with replicationFactor 1), so scale-in stays a manual, drained operation."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(owner, name(owner), COMPONENT_QDRANT),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name(owner)},
            "minReplicas": spec.replicas,
            "maxReplicas": spec.autoscaling.max_replicas,
            "metrics": [
                workloads.utilization("memory", spec.autoscaling.target_memory_utilization)
            ],
            "behavior": {
                # One peer at a time, then wait: a new peer starts empty and needs shards moved in.
                "scaleUp": {
                    "stabilizationWindowSeconds": 300,
                    "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 600}],
                },
                "scaleDown": {"selectPolicy": "Disabled"},
            },
        },
    }


def build(spec: api.RAGDeploymentSpec, owner: Owner, *, live: Obj | None = None) -> list[Obj]:
    """`live`: the running StatefulSet, if any."""
    qdrant = spec.vector_store.qdrant
    manifests = [
        service_account(owner),
        headless_service(owner),
        service(owner),
        stateful_set(qdrant, owner, live=live),
        workloads.disruption_budget(
            owner,
            name=name(owner),
            component=COMPONENT_QDRANT,
            selector=selector_labels(owner, COMPONENT_QDRANT),
        ),
    ]
    if qdrant.autoscaling.enabled:
        manifests.append(autoscaler(qdrant, owner))
    return manifests
