"""A minimal volume provisioner for the real node: hostPath PersistentVolumes under the cluster dir.

StorageClass gp3 names provisioner `ragops.dev/hostpath` with WaitForFirstConsumer binding, as
EBS classes do on EKS. Once the scheduler picks the node for a claim's first pod (annotation
`volume.kubernetes.io/selected-node`), this loop creates a PersistentVolume pre-bound to the
claim, backed by a fresh directory (mode 0777: pods run as any uid, and hostPath volumes ignore
fsGroup). Released volumes are deleted with their directory. Capacity is nominal: the claim's
request is recorded, not enforced. Run as a process of the cluster:
`python -m ragops_devcluster.volumes KUBECTL KUBECONFIG DIRECTORY`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import KubectlFailed
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.nodeconfig import NODE_NAME

STORAGE_CLASS = "gp3"
PROVISIONER = "ragops.dev/hostpath"
_SELECTED_NODE = "volume.kubernetes.io/selected-node"
_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
_log = logging.getLogger("ragops.devcluster.volumes")


def storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        # Accepted like EBS gp3 (the operator may ask); the size is nominal here anyway.
        "allowVolumeExpansion": True,
    }


def volume_for(claim: dict[str, Any], root: Path) -> dict[str, Any]:
    meta = claim["metadata"]
    directory = root / f"{meta['namespace']}-{meta['name']}-{meta['uid'][:8]}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {_PROVISIONED_BY: PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes") or ["ReadWriteOnce"],
            "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(directory), "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [NODE_NAME],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }


def reconcile(kubectl: Kubectl, root: Path) -> None:
    """One pass: provision pending claims of the class, delete released volumes."""
    claims = kubectl.get(["persistentvolumeclaims", "--all-namespaces"])["items"]
    existing = {pv["metadata"]["name"]: pv for pv in kubectl.get(["persistentvolumes"])["items"]}
    for claim in claims:
        meta = claim["metadata"]
        wanted = (
            claim["spec"].get("storageClassName") == STORAGE_CLASS
            and claim.get("status", {}).get("phase") == "Pending"
            and (meta.get("annotations") or {}).get(_SELECTED_NODE) == NODE_NAME
            and f"pvc-{meta['uid']}" not in existing
        )
        if wanted:
            volume = volume_for(claim, root)
            path = Path(volume["spec"]["hostPath"]["path"])
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)
            kubectl.apply([volume])
            _log.info("provisioned %s for %s/%s", path, meta["namespace"], meta["name"])
    for name, pv in existing.items():
        ours = (pv["metadata"].get("annotations") or {}).get(_PROVISIONED_BY) == PROVISIONER
        if ours and pv.get("status", {}).get("phase") in ("Released", "Failed"):
            path = Path(pv["spec"]["hostPath"]["path"])
            if path.is_relative_to(root):  # never remove anything else
                shutil.rmtree(path, ignore_errors=True)
            kubectl.run(["delete", "persistentvolume", name, "--wait=false"])
            _log.info("deleted %s and %s", name, path)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kubectl = Kubectl(Path(argv[0]), Path(argv[1]))
    root = Path(argv[2])
    root.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            reconcile(kubectl, root)
        except KubectlFailed as exc:  # the API server restarting: try again next round
            _log.warning("%s", exc)
        time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
