#!/usr/bin/env bash
# Builds the one RAGOps image (Dockerfile) and prints its reference on the last line of stdout;
# progress goes to stderr.
#
#   bash scripts/build-image.sh [TAG]        (TAG defaults to ragops:VERSION from pyproject.toml)
#   bash scripts/build-image.sh --bases-only  (only the local base images: .ci/run starts this
#                                              beside the Go builds, as it mostly downloads)
#
# Engine: `docker build` where a Docker engine answers, else podman, else buildah
# (RAGOPS_IMAGE_ENGINE=docker|podman|buildah chooses). With Docker the Dockerfile's defaults,
# the official python:3.11-slim and node:20-slim images, are the bases. With podman or buildah
# (machines without Docker, and without a reachable container registry) the bases are built
# here from Debian's packages with mmdebstrap and imported: Debian 12 with Python 3.11 for the
# Python stages, Debian 13 with Node.js 20.19 and npm for the chat page's stage. They are
# cached as podman images named by their recipe's revision (present: not rebuilt; bump
# BASE_REVISION when a recipe changes). RAGOPS_IMAGE_BASES=official uses the official images
# with podman too (a machine that reaches Docker Hub).
#
# The host's CA bundle is mounted read-only while the build runs (registries reached through a
# TLS-intercepting proxy) and never copied into the image. Labels: RAGOPS_IMAGE_SOURCE (else
# $CI_PROJECT_URL, else the git remote `origin`), the commit ($CI_COMMIT_SHA, else git HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_REVISION=r1
PYTHON_BASE=localhost/ragops-base-python:bookworm-$BASE_REVISION
NODE_BASE=localhost/ragops-base-node:trixie-$BASE_REVISION
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Debian's podman: crun refuses the hybrid cgroup layout of these machines (runc, where it is
# installed, works), and limits above the hard ones fail (no CAP_SYS_RESOURCE): see
# ../shared/notes/containers.md.
RUNC=/usr/sbin/runc
PODMAN_GLOBAL=(--cgroup-manager=cgroupfs)
BUILDAH_RUNTIME=()
if [ -x "$RUNC" ]; then
  PODMAN_GLOBAL+=(--runtime "$RUNC")
  BUILDAH_RUNTIME=(--runtime "$RUNC")
fi
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

say() { echo "build-image: $*" >&2; }
fail() { say "$*"; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n1)
[ -n "$version" ] || fail "no version in pyproject.toml"
bases_only=false
if [ "${1:-}" = --bases-only ]; then
  bases_only=true
  shift
fi
tag=${1:-ragops:$version}
revision=${CI_COMMIT_SHA:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
source_url=${RAGOPS_IMAGE_SOURCE:-${CI_PROJECT_URL:-$(git remote get-url origin 2>/dev/null || echo unknown)}}

engine=${RAGOPS_IMAGE_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
  elif command -v buildah >/dev/null; then
    engine=buildah
  else
    fail "no container engine: install Docker, or podman/buildah (scripts/install-system-deps.sh)"
  fi
fi
command -v "$engine" >/dev/null || fail "$engine not found"
bases=${RAGOPS_IMAGE_BASES:-$([ "$engine" = docker ] && echo official || echo local)}

image_present() {
  case $engine in
    podman) podman image exists "$1" ;;
    buildah) buildah inspect --type image "$1" >/dev/null 2>&1 ;;
    *) docker image inspect "$1" >/dev/null 2>&1 ;;
  esac
}

# mmdebstrap SUITE PACKAGES IMAGE: a minimal Debian root file system as an image; no docs, man
# pages or translations (nothing in the image reads them).
debian_base() {
  local suite=$1 packages=$2 image=$3
  if image_present "$image"; then
    say "base image $image present"
    return
  fi
  command -v mmdebstrap >/dev/null || fail "mmdebstrap not found (scripts/install-system-deps.sh)"
  say "building base image $image: Debian $suite with $packages (mmdebstrap)"
  local tar
  tar=$(mktemp --suffix=.tar)
  # shellcheck disable=SC2064
  trap "rm -f '$tar'" RETURN
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$tar" >&2
  case $engine in
    podman)
      podman import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' "$tar" "$image" >&2
      ;;
    buildah)
      local container
      container=$(buildah from scratch)
      buildah add "$container" "$tar" / >&2
      buildah config --env LANG=C.UTF-8 --cmd /bin/bash "$container" >&2
      buildah commit --rm "$container" "$image" >&2
      ;;
    *) docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' "$tar" "$image" >&2 ;;
  esac
}

args=(
  --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision"
  --build-arg "SOURCE=$source_url"
)
if [ "$bases" = local ]; then
  # One builder of the bases at a time: a second waits, then finds them present.
  lock_dir=${XDG_CACHE_HOME:-$HOME/.cache}/ragops
  mkdir -p "$lock_dir"
  exec 9>"$lock_dir/image-bases.lock"
  flock 9
  debian_base bookworm python3.11,python3-venv,ca-certificates "$PYTHON_BASE"
  # Debian 12's Node 18 is too old for the page's build (Vite needs >= 20.19): Debian 13's.
  debian_base trixie nodejs,npm,ca-certificates "$NODE_BASE"
  flock -u 9
  args+=(--build-arg "PYTHON_IMAGE=$PYTHON_BASE" --build-arg "NODE_IMAGE=$NODE_BASE")
fi
if $bases_only; then
  say "base images ready"
  exit 0
fi
if [ -f "$CA_BUNDLE" ] && [ "$engine" != docker ]; then
  args+=(-v "/etc/ssl/certs:/etc/ssl/certs:ro" --build-arg "BUILD_CA_BUNDLE=$CA_BUNDLE")
fi

say "building $tag with $engine ($bases base images)"
case $engine in
  podman)
    podman "${PODMAN_GLOBAL[@]}" build --network host "${ULIMITS[@]}" "${args[@]}" -t "$tag" . >&2
    ;;
  buildah)
    buildah --cgroup-manager=cgroupfs bud --layers "${BUILDAH_RUNTIME[@]}" --network host \
      "${ULIMITS[@]}" "${args[@]}" -t "$tag" . >&2
    ;;
  *) DOCKER_BUILDKIT=1 docker build "${args[@]}" -t "$tag" . >&2 ;;
esac

# podman and buildah name an image without a registry localhost/NAME.
if [ "$engine" != docker ] && [[ "${tag%%/*}" != *[.:]* || "$tag" != */* ]] \
  && [[ "$tag" != localhost/* ]]; then
  tag=localhost/$tag
fi
echo "$tag"
