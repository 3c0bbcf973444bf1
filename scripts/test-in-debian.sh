#!/usr/bin/env bash
# Runs the tests that need no Kubernetes under another Debian release's Python, to prove the
# versions users have (Debian 13 / Ubuntu 24.04 ship Python 3.12-3.13; this machine has 3.11).
#
#   bash scripts/test-in-debian.sh [SUITE] [PYTEST ARGS...]     (SUITE defaults to trixie)
#
# The root file system comes from Debian's own packages (mmdebstrap, about 30 s) and is cached
# outside the repository, keyed by suite and package list. The checkout is bind-mounted at the
# same path, so the tests' relative paths (../shared) resolve as on the host; the venv lives in
# the root file system, never in the checkout. pip's cache and the Qdrant server the dev cluster
# built are shared read-only with the host. Everything runs in a private mount namespace, so
# no mount outlives the script, even when it is killed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
suite=${1:-trixie}
shift || true
[ "$(id -u)" -eq 0 ] || { echo "test-in-debian.sh needs root (mmdebstrap, chroot)" >&2; exit 1; }

packages=python3,python3-venv,python3-dev,ca-certificates,redis-server
# Bump the revision when the package list changes: it is part of the cache key.
cache_root=${RAGOPS_CACHE_DIR:-$HOME/.cache/ragops}
rootfs=$cache_root/rootfs/debian-$suite-r1

if ! command -v mmdebstrap >/dev/null; then
  echo "Installing mmdebstrap from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
fi
if [ ! -x "$rootfs/usr/bin/python3" ]; then
  echo "Building a Debian $suite root file system in $rootfs (about 30 s)"
  rm -rf "$rootfs.partial"
  mkdir -p "$(dirname "$rootfs")"
  mmdebstrap --quiet --variant=minbase --include="$packages" "$suite" "$rootfs.partial"
  mv "$rootfs.partial" "$rootfs"
fi
echo "Debian $suite: $("$rootfs/usr/bin/python3" --version 2>/dev/null || chroot "$rootfs" python3 --version)"

shared=$(cd "$repo/.." && pwd)/shared
host_pip_cache=$HOME/.cache/pip
mkdir -p "$host_pip_cache" "$cache_root/devcluster"

# Default selection: everything but the Kubernetes control plane (cluster marker), the browser
# test (Chromium is the host's) and the Terraform checks (host tools); the cluster tier runs on
# the host's Python only.
default_args=(-m "not cluster" --ignore=tests/e2e --ignore=tests/terraform --ignore=tests/cluster)
[ "$#" -gt 0 ] || set -- "${default_args[@]}"

# The inner script runs in the new mount namespace: mounts first, then the chroot.
inner=$(cat <<'EOF'
set -euo pipefail
mount --make-rprivate /
bind() { mkdir -p "$ROOTFS$2"; mount --bind "$1" "$ROOTFS$2"; [ "${3:-}" != ro ] || mount -o remount,bind,ro "$ROOTFS$2"; }
mount -t proc proc "$ROOTFS/proc"
# rbind: /dev/pts (the terminal tests' pseudo-terminals) and /dev/shm come along.
mkdir -p "$ROOTFS/dev"; mount --rbind /dev "$ROOTFS/dev"
mount -t tmpfs tmpfs "$ROOTFS/tmp"
bind "$REPO" "$REPO"
[ ! -d "$SHARED" ] || bind "$SHARED" "$SHARED" ro
bind "$HOST_PIP_CACHE" /root/.cache/pip
bind "$CACHE_ROOT/devcluster" /root/.cache/ragops/devcluster ro
# The registries are reached through a TLS-intercepting proxy that only the host's bundle
# trusts: mount it read-only, never copy it.
bind /etc/ssl/certs /etc/ssl/certs ro
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
exec chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/opt/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
  PIP_PROGRESS_BAR=off PIP_DEFAULT_TIMEOUT=180 RAGOPS_SHARED_DIR="$SHARED" \
  bash -c 'set -euo pipefail
    cd "$1"; shift
    [ -x /opt/venv/bin/python ] || python3 -m venv /opt/venv
    python --version
    pip install --quiet -e ".[dev]" -e ./devcluster
    # No .pytest_cache in the checkout: the host owns it.
    exec pytest -p no:cacheprovider "$@"' inner "$REPO" "$@"
EOF
)
ROOTFS=$rootfs REPO=$repo SHARED=$shared HOST_PIP_CACHE=$host_pip_cache CACHE_ROOT=$cache_root \
  exec unshare --mount --fork bash -c "$inner" inner "$@"
