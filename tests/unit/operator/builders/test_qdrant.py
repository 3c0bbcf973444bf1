"""The Qdrant builder: a distributed StatefulSet that is admitted under the restricted PSS,
keeps or deletes its volumes per deletionPolicy, and leaves replicas to the HPA when it scales."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ragops_devcluster import qdrant as qdrant_build
from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import qdrant
from ragops_operator.builders.labels import selector_labels
from ragops_operator.objects import Obj
from tests.support.builder_specs import OWNER, by_kind, one, qdrant_spec
from tests.support.pod_security import pod_spec_of, restricted_violations

PRODUCTION = {
    "replicas": 3,
    "replicationFactor": 2,
    "storage": {"size": "100Gi", "storageClassName": "gp3"},
    "autoscaling": {"enabled": True, "maxReplicas": 6},
    "apiKeySecretRef": {"name": "qdrant-key", "key": "api-key"},
}


def statefulset(**q: Any) -> Obj:
    return one(qdrant.build(qdrant_spec(**q), OWNER), "StatefulSet", "demo-qdrant")


def container(**q: Any) -> dict[str, Any]:
    return statefulset(**q)["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_renders_the_expected_objects() -> None:
    names = {(m["kind"], m["metadata"]["name"]) for m in qdrant.build(qdrant_spec(), OWNER)}
    assert names == {
        ("ServiceAccount", "demo-qdrant"),
        ("Service", "demo-qdrant"),
        ("Service", "demo-qdrant-headless"),
        ("StatefulSet", "demo-qdrant"),
        ("PodDisruptionBudget", "demo-qdrant"),
    }


def test_every_object_is_owned_and_labelled() -> None:
    for m in qdrant.build(qdrant_spec(**PRODUCTION), OWNER):
        meta = m["metadata"]
        assert meta["namespace"] == "tenant-a"
        assert meta["ownerReferences"][0]["uid"] == OWNER.uid
        assert meta["labels"]["app.kubernetes.io/component"] == "qdrant"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "ragops-operator"


def test_fixed_replicas_without_autoscaling() -> None:
    manifests = qdrant.build(qdrant_spec(replicas=3, replicationFactor=2), OWNER)
    assert one(manifests, "StatefulSet")["spec"]["replicas"] == 3
    assert by_kind(manifests, "HorizontalPodAutoscaler") == []


def test_autoscaling_leaves_replicas_to_the_hpa() -> None:
    manifests = qdrant.build(qdrant_spec(**PRODUCTION), OWNER)
    assert "replicas" not in one(manifests, "StatefulSet")["spec"]
    hpa = one(manifests, "HorizontalPodAutoscaler", "demo-qdrant")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "demo-qdrant",
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 6)
    assert hpa["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 85},
            },
        }
    ]
    # Scale-in would strand shards on the removed peer; it stays manual.
    assert hpa["behavior"]["scaleDown"] == {"selectPolicy": "Disabled"}


def test_volume_retention_follows_deletion_policy() -> None:
    assert statefulset()["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    delete = statefulset(deletionPolicy="Delete")["spec"]["persistentVolumeClaimRetentionPolicy"]
    assert delete == {"whenDeleted": "Delete", "whenScaled": "Retain"}


def test_volume_claim_template_uses_the_storage_spec_and_is_never_pruned() -> None:
    (claim,) = statefulset(**PRODUCTION)["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "storage"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "gp3",
        "resources": {"requests": {"storage": "100Gi"}},
    }
    # The operator prunes by managed-by; volumes must not match that selector.
    assert "app.kubernetes.io/managed-by" not in claim["metadata"]["labels"]
    assert {"name": "storage", "mountPath": "/qdrant/storage"} in container()["volumeMounts"]


def test_pod_passes_the_restricted_pod_security_standard() -> None:
    for q in ({}, PRODUCTION):
        pod = pod_spec_of(statefulset(**q))
        assert pod is not None
        assert restricted_violations(pod) == []
        assert pod["securityContext"]["runAsUser"] == 1000
        assert pod["automountServiceAccountToken"] is False


def test_read_only_root_with_writable_scratch_paths() -> None:
    sts = statefulset()
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    for path in ("/qdrant/snapshots", "/tmp", "/qdrant/init"):
        assert "emptyDir" in volumes[mounts[path]], path
    env = {e["name"]: e.get("value") for e in c["env"]}
    # The init marker and snapshots must land on writable mounts.
    assert env["QDRANT_INIT_FILE_PATH"].startswith("/qdrant/init/")
    assert env["QDRANT__STORAGE__SNAPSHOTS_PATH"] == "/qdrant/snapshots"


def test_api_key_comes_from_the_secret_reference_only() -> None:
    c = container(**PRODUCTION)
    (key,) = [e for e in c["env"] if e["name"] == "QDRANT__SERVICE__API_KEY"]
    assert key == {
        "name": "QDRANT__SERVICE__API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "qdrant-key", "key": "api-key"}},
    }
    assert all("value" not in e for e in c["env"] if "KEY" in e["name"])
    assert not [e for e in container()["env"] if e["name"] == "QDRANT__SERVICE__API_KEY"]


def test_distributed_mode_settings() -> None:
    env = {e["name"]: e.get("value") for e in container(replicas=3, replicationFactor=2)["env"]}
    assert env["QDRANT__CLUSTER__ENABLED"] == "true"
    assert env["QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"] == "2"
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    assert ports == {"http": 6333, "grpc": 6334, "p2p": 6335}


def _run_entrypoint(tmp_path: Path, pod_name: str) -> list[str]:
    """Run the rendered shell entrypoint with Qdrant's entrypoint replaced by an argv recorder."""
    fake = tmp_path / "entrypoint.sh"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    shell, flag, script = container()["command"]
    env = {"PATH": os.environ["PATH"], "POD_NAME": pod_name}
    out = subprocess.run(
        [shell, flag, script.replace("/qdrant/entrypoint.sh", str(fake))],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return out.stdout.splitlines()


def test_peer_zero_founds_the_cluster_and_others_bootstrap_from_it(tmp_path: Path) -> None:
    headless = "demo-qdrant-headless"
    assert _run_entrypoint(tmp_path, "demo-qdrant-0") == [
        "--uri",
        f"http://demo-qdrant-0.{headless}:6335",
    ]
    assert _run_entrypoint(tmp_path, "demo-qdrant-2") == [
        "--uri",
        f"http://demo-qdrant-2.{headless}:6335",
        "--bootstrap",
        f"http://demo-qdrant-0.{headless}:6335",
    ]
    # A name like "demo-10" must not be mistaken for peer 0 (only the ordinal counts).
    assert "--bootstrap" in _run_entrypoint(tmp_path, "demo-qdrant-10")


def test_pod_name_comes_from_the_downward_api() -> None:
    (pod_name,) = [e for e in container()["env"] if e["name"] == "POD_NAME"]
    assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_services_for_clients_and_peer_discovery() -> None:
    manifests = qdrant.build(qdrant_spec(), OWNER)
    client = one(manifests, "Service", "demo-qdrant")["spec"]
    headless = one(manifests, "Service", "demo-qdrant-headless")["spec"]
    assert client["type"] == "ClusterIP"
    assert {(p["name"], p["port"]) for p in client["ports"]} == {("http", 6333), ("grpc", 6334)}
    assert headless["clusterIP"] == "None"
    assert headless["publishNotReadyAddresses"] is True
    assert {(p["name"], p["port"]) for p in headless["ports"]} == {
        ("http", 6333),
        ("grpc", 6334),
        ("p2p", 6335),
    }
    sts = one(manifests, "StatefulSet")["spec"]
    assert sts["serviceName"] == "demo-qdrant-headless"
    assert sts["podManagementPolicy"] == "Parallel"
    selector = selector_labels(OWNER, "qdrant")
    template_labels = sts["template"]["metadata"]["labels"]
    for s in (client, headless, sts["selector"]["matchLabels"]):
        wanted = s.get("selector", s)
        assert wanted == selector
        assert wanted.items() <= template_labels.items()


def test_peers_spread_over_hosts_and_zones() -> None:
    affinity = statefulset()["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    (required,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["topologyKey"] == "kubernetes.io/hostname"
    assert required["labelSelector"]["matchLabels"] == selector_labels(OWNER, "qdrant")
    (preferred,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["podAffinityTerm"]["topologyKey"] == "topology.kubernetes.io/zone"


def test_probes_use_qdrant_health_endpoints() -> None:
    c = container()
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}


def test_resources_and_image_come_from_the_spec() -> None:
    resources = {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "8Gi"}}
    c = container(image="qdrant/qdrant:v1.18.3-unprivileged", resources=resources)
    # plus the ephemeral-storage request of its scratch space (test_ephemeral_storage.py)
    assert c["resources"]["requests"] == {**resources["requests"], "ephemeral-storage": "1025Mi"}
    assert c["resources"]["limits"] == resources["limits"]
    assert c["image"] == "qdrant/qdrant:v1.18.3-unprivileged"


def test_default_image_is_the_server_version_the_project_builds_and_tests() -> None:
    # The integration tests run the server `ragops dev-cluster build` compiles; production must
    # get that same version unless the spec says otherwise.
    assert api.QdrantSpec().image == f"qdrant/qdrant:{qdrant_build.VERSION}"


def test_disruption_budget_and_service_account() -> None:
    manifests = qdrant.build(qdrant_spec(), OWNER)
    pdb = one(manifests, "PodDisruptionBudget")["spec"]
    assert pdb == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": selector_labels(OWNER, "qdrant")},
    }
    sa = one(manifests, "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    assert "annotations" not in sa["metadata"]


def test_output_is_deterministic() -> None:
    first = yaml.safe_dump_all(qdrant.build(qdrant_spec(**PRODUCTION), OWNER))
    assert first == yaml.safe_dump_all(qdrant.build(qdrant_spec(**PRODUCTION), OWNER))
