"""Images on the real node: the sandbox (pause) image built here, and `load-image`.

No registry is reachable, so every image reaches containerd's `k8s.io` namespace (the one the
kubelet's CRI uses) by `ctr images import` of an archive, keeping the name it was saved under.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.gotool import Progress
from ragops_devcluster.nodeconfig import K8S_NAMESPACE, SANDBOX_IMAGE
from ragops_devcluster.paths import cache_root

BUSYBOX = Path("/bin/busybox")
# `sleep` as PID 1 of every pod sandbox: it only has to hold the namespaces; containerd stops
# sandboxes with SIGKILL.
_SANDBOX_ENTRYPOINT = '["/bin/sleep","2147483647"]'


class ImageLoadFailed(DevClusterError):
    """podman or ctr could not produce or import an image; the message carries their output."""


@dataclass(frozen=True)
class LoadedImages:
    names: list[str]
    seconds: float


def _run(argv: list[str], *, timeout: float = 900) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ImageLoadFailed(
            f"{argv[0]} is not installed: run scripts/install-system-deps.sh"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ImageLoadFailed(f"`{' '.join(argv)}` did not finish within {timeout:.0f}s") from exc
    if result.returncode != 0:
        raise ImageLoadFailed(
            f"`{' '.join(argv)}` failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result.stdout


def _busybox_version() -> str:
    if not BUSYBOX.is_file():
        raise ImageLoadFailed(
            f"{BUSYBOX} is missing: the sandbox image is a static busybox; "
            "run scripts/install-system-deps.sh (Debian's busybox-static)"
        )
    first = _run([str(BUSYBOX)], timeout=30).splitlines()[0]  # "BusyBox v1.35.0 (...) multi-call"
    return first.split()[1] if first.startswith("BusyBox") else "unknown"


def sandbox_archive(progress: Progress) -> Path:
    """An OCI archive of the sandbox image, built once per busybox version with podman."""
    version = _busybox_version()
    archive = cache_root() / f"sandbox-image-busybox-{version}.oci.tar"
    if archive.is_file():
        return archive
    progress(f"building the sandbox image {SANDBOX_IMAGE} from {BUSYBOX} {version}")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ragops-sandbox-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        shutil.copy2(BUSYBOX, rootfs / "bin/busybox")
        (rootfs / "bin/sleep").symlink_to("busybox")
        (rootfs / "bin/sh").symlink_to("busybox")
        layer = Path(scratch) / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "-cf", str(layer), "."])
        _run(
            [
                "podman",
                "import",
                "--change",
                f"ENTRYPOINT {_SANDBOX_ENTRYPOINT}",
                str(layer),
                SANDBOX_IMAGE,
            ]
        )
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _run(["podman", "save", "--format", "oci-archive", "-o", str(partial), SANDBOX_IMAGE])
        partial.rename(archive)
    return archive


def import_archive(ctr: Path, socket: Path, archive: Path) -> list[str]:
    """Import `archive` (OCI or docker) into the node's containerd; return the image names."""
    _run(
        [
            str(ctr),
            "--address",
            str(socket),
            "--namespace",
            K8S_NAMESPACE,
            "images",
            "import",
            # Unpacked for the CRI's snapshotter now, or the first pod pays for it.
            "--snapshotter",
            "overlayfs",
            str(archive),
        ]
    )
    names = [normalized(name) for name in archive_names(archive)]
    present = set(list_images(ctr, socket))
    missing = [name for name in names if name not in present]
    if missing or not names:
        raise ImageLoadFailed(
            f"{archive} imported, but containerd does not list {missing or 'any named image'}; "
            f"it lists: {', '.join(sorted(present))}"
        )
    return names


def normalized(name: str) -> str:
    """The name containerd stores: docker's familiar names get their registry, as `ctr` does
    (`redis:7` is `docker.io/library/redis:7`; `localhost/ragops:1` stays as it is)."""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return name
    return f"docker.io/{name}" if rest else f"docker.io/library/{name}"


def archive_names(archive: Path) -> list[str]:
    """The image names an OCI archive's index or a docker archive's manifest carries."""
    with tarfile.open(archive) as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
        if "index.json" in members:
            index = _json_member(tar, members["index.json"])
            names = []
            for manifest in index.get("manifests", []):
                annotations = manifest.get("annotations") or {}
                name = annotations.get("io.containerd.image.name") or annotations.get(
                    "org.opencontainers.image.ref.name"
                )
                if name:
                    names.append(str(name))
            return names
        if "manifest.json" in members:
            entries = _json_member(tar, members["manifest.json"])
            return [str(tag) for entry in entries for tag in entry.get("RepoTags") or []]
    raise ImageLoadFailed(f"{archive} is neither an OCI archive nor a docker archive")


def _json_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    handle = tar.extractfile(member)
    if handle is None:
        raise ImageLoadFailed(f"{member.name} in the archive is not a file")
    return json.loads(handle.read())


def list_images(ctr: Path, socket: Path) -> list[str]:
    out = _run(
        [str(ctr), "--address", str(socket), "--namespace", K8S_NAMESPACE, "images", "ls", "-q"],
        timeout=60,
    )
    return [line.strip() for line in out.splitlines() if line.strip()]


def load(ctr: Path, socket: Path, source: str, progress: Progress) -> LoadedImages:
    """`source` is an archive path or the name of an image podman holds."""
    started = time.monotonic()
    path = Path(source)
    if path.is_file():
        progress(f"importing {path} into {socket}")
        names = import_archive(ctr, socket, path)
    else:
        with tempfile.TemporaryDirectory(prefix="ragops-load-") as scratch:
            archive = Path(scratch) / "image.oci.tar"
            progress(f"saving podman image {source} as an OCI archive")
            _run(["podman", "save", "--format", "oci-archive", "-o", str(archive), source])
            progress(f"importing {source} into {socket}")
            names = import_archive(ctr, socket, archive)
    return LoadedImages(names, time.monotonic() - started)
