#!/usr/bin/env bash
# Builds the images the dev cluster's real node runs beside the project's own (issue 18), with
# podman, from the project's Debian 12 base image (scripts/build-image.sh --bases-only):
#
#   localhost/ragops-qdrant:v1.18.3         the Qdrant server `ragops dev-cluster build` compiled
#                                           (profile ci), laid out like qdrant/qdrant's
#                                           -unprivileged image (images/qdrant/Containerfile)
#   localhost/ragops-redis:<Debian version> Debian's redis-server on 0.0.0.0:6379, uid 999
#   localhost/ragops-moto:<pinned version>  moto_server (S3, SQS) on 0.0.0.0:5000, uid 10001
#
#   bash scripts/build-dev-images.sh [--only qdrant|redis|moto]
#
# Prints one line per image on stdout, `NAME<TAB>REFERENCE`; progress goes to stderr.
# Cached: each image carries the label ragops.dev/dev-image-key, a hash of what it is built from
# (RECIPE below, its Containerfile, the base image's name and, for Qdrant, the binary and the
# source bundle; for moto the pinned version). An image whose key matches is re-used (seconds);
# a changed input (a rebuilt Qdrant binary, an edited Containerfile) builds it again under the
# same tag. The Redis tag is the Debian package version installed at build time ('~' -> '-',
# no epoch), so it is found by its key, not by a tag known in advance.
#
# The Qdrant binary comes from ragops_devcluster.qdrant.build(), which compiles it first if the
# cache lacks it (about 14 minutes cold): Python with ./devcluster installed is $RAGOPS_PYTHON,
# else .venv/bin/python, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's podman on these machines: runc, cgroupfs, limits at or under the hard ones
# (../shared/notes/containers.md).
PODMAN=(podman --runtime /usr/sbin/runc --cgroup-manager=cgroupfs)
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
KEY_LABEL=ragops.dev/dev-image-key
# Bump when what this script gives a build changes (its context, arguments or options).
RECIPE=1

say() { echo "build-dev-images: $*" >&2; }
fail() { say "$*"; exit 1; }

only=
while [ $# -gt 0 ]; do
  case $1 in
    --only)
      only=${2:-}
      shift 2 || true
      ;;
    --only=*)
      only=${1#--only=}
      shift
      ;;
    *) fail "unknown argument $1 (usage: build-dev-images.sh [--only qdrant|redis|moto])" ;;
  esac
done
case $only in
  "") targets=(qdrant redis moto) ;;
  qdrant | redis | moto) targets=("$only") ;;
  *) fail "--only takes qdrant, redis or moto, not '$only'" ;;
esac

command -v podman >/dev/null \
  || fail "podman not found: bash scripts/install-system-deps.sh installs podman, runc and mmdebstrap"
[ -x /usr/sbin/runc ] || fail "runc not found at /usr/sbin/runc (scripts/install-system-deps.sh)"

# The base image build-image.sh makes, named as it names it.
base_revision=$(sed -n 's/^BASE_REVISION=//p' scripts/build-image.sh)
base_pattern=$(sed -n 's/^PYTHON_BASE=//p' scripts/build-image.sh)
[ -n "$base_revision" ] && [ -n "$base_pattern" ] \
  || fail "cannot read BASE_REVISION/PYTHON_BASE from scripts/build-image.sh"
BASE_IMAGE=${base_pattern//\$BASE_REVISION/$base_revision}

image_exists() { "${PODMAN[@]}" image exists "$1"; }
image_key() {
  "${PODMAN[@]}" image inspect --format "{{index .Labels \"$KEY_LABEL\"}}" "$1" 2>/dev/null || true
}
sha() { sha256sum "$@" | awk '{print $1}'; }
# The key of an image: the recipe's revision, its Containerfile, the base's name, and `extra`
# inputs. Not this file's text: a changed message must not rebuild every image (and two
# worktrees whose scripts differ only in wording would rebuild each other's images in turn).
key_of() {
  local name=$1 extra=$2
  printf '%s\n' "$RECIPE" "$(sha "images/$name/Containerfile")" "$BASE_IMAGE" "$extra" \
    | sha256sum | cut -c1-16
}

# podman build of images/NAME/Containerfile with CONTEXT as TAG labelled with KEY; the other
# arguments are --build-arg's.
build() {
  local name=$1 context=$2 tag=$3 key=$4
  shift 4
  # The key as a --label, not a LABEL from a build argument: buildah 1.28 re-uses a cached
  # LABEL layer when only the argument changed, which would leave a stale key behind.
  local args=(--build-arg "BASE_IMAGE=$BASE_IMAGE" --label "$KEY_LABEL=$key")
  local arg
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  # The host's CA bundle, read-only and for the build only (a TLS-intercepting proxy).
  if [ -f "$CA_BUNDLE" ] && grep -q '^ARG BUILD_CA_BUNDLE' "images/$name/Containerfile"; then
    args+=(-v "/etc/ssl/certs:/etc/ssl/certs:ro" --build-arg "BUILD_CA_BUNDLE=$CA_BUNDLE")
  fi
  local started=$SECONDS previous
  previous=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  say "building $tag"
  nice -n 10 "${PODMAN[@]}" build --network host "${ULIMITS[@]}" "${args[@]}" \
    -f "images/$name/Containerfile" -t "$tag" "$context" >&2
  # The image the tag named before, if nothing else names or uses it (a rebuilt Qdrant binary
  # would otherwise leave its hundreds of MB behind with every rebuild).
  if [ -n "$previous" ] && [ "$previous" != "$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$tag")" ]; then
    "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true
  fi
  [ "$(image_key "$tag")" = "$key" ] || fail "$tag was built without its key $key"
  say "built $tag in $((SECONDS - started)) s ($(size_of "$tag"))"
}
size_of() { "${PODMAN[@]}" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }

ensure_base() {
  if image_exists "$BASE_IMAGE"; then
    return
  fi
  say "base image $BASE_IMAGE missing: scripts/build-image.sh --bases-only (cold about 7 minutes)"
  bash scripts/build-image.sh --bases-only >&2
  image_exists "$BASE_IMAGE" || fail "scripts/build-image.sh --bases-only did not make $BASE_IMAGE"
}

python_with_devcluster() {
  local python=${RAGOPS_PYTHON:-}
  if [ -z "$python" ]; then
    if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
  fi
  "$python" -c 'import ragops_devcluster' 2>/dev/null \
    || fail "$python cannot import ragops_devcluster: pip install -e ./devcluster (or set RAGOPS_PYTHON)"
  echo "$python"
}

qdrant() {
  local python binary bundle version
  python=$(python_with_devcluster)
  # Prints the version, the binary (built now if the cache lacks it) and the source bundle.
  {
    read -r version
    read -r binary
    read -r bundle
  } < <("$python" - <<'PY'
import sys

from ragops_devcluster import qdrant

binary = qdrant.build(lambda message: print(message, file=sys.stderr, flush=True))
print(qdrant.VERSION, binary, qdrant.source_bundle(), sep="\n")
PY
  )
  [ -n "${bundle:-}" ] && [ -x "$binary" ] || fail "no Qdrant binary from ragops_devcluster.qdrant.build()"
  [ -f "$bundle" ] || fail "the Qdrant source bundle is not at $bundle (set RAGOPS_QDRANT_SOURCE or RAGOPS_SHARED_DIR)"
  local tag=localhost/ragops-qdrant:$version key
  key=$(key_of qdrant "$(sha "$binary") $(sha "$bundle")")
  if image_exists "$tag" && [ "$(image_key "$tag")" = "$key" ]; then
    say "$tag present (key $key)"
  else
    local context
    context=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$context'" RETURN
    # Qdrant's own config, entrypoint and licence, from the bundle the binary was built from.
    tar -xzf "$bundle" -C "$context" qdrant/LICENSE qdrant/config qdrant/tools/entrypoint.sh
    mv "$context/qdrant/LICENSE" "$context/qdrant/config" "$context/"
    mv "$context/qdrant/tools/entrypoint.sh" "$context/entrypoint.sh"
    rm -rf "$context/qdrant"
    ln "$binary" "$context/qdrant" 2>/dev/null || cp "$binary" "$context/qdrant"
    build qdrant "$context" "$tag" "$key" "VERSION=$version"
  fi
  printf 'qdrant\t%s\n' "$tag"
}

redis() {
  local key found
  key=$(key_of redis "")
  found=$("${PODMAN[@]}" images --noheading --filter "label=$KEY_LABEL=$key" \
    --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/ragops-redis:' | grep -v ':build-' \
    | head -n1 || true)
  if [ -n "$found" ]; then
    say "$found present (key $key)"
  else
    local scratch=localhost/ragops-redis:build-$key version
    build redis images/redis "$scratch" "$key"
    version=$("${PODMAN[@]}" run --rm "${ULIMITS[@]}" --entrypoint dpkg-query "$scratch" \
      -W -f '${Version}' redis-server)
    [ -n "$version" ] || fail "no redis-server package in $scratch"
    # 5:7.0.15-1~deb12u10 -> 7.0.15-1-deb12u10 (a tag allows neither ':' nor '~').
    version=${version#*:}
    found=localhost/ragops-redis:${version//\~/-}
    local previous
    previous=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$found" 2>/dev/null || true)
    "${PODMAN[@]}" tag "$scratch" "$found"
    "${PODMAN[@]}" untag "$scratch" "$scratch"
    # The image the version's tag named before, if nothing else names or uses it.
    if [ -n "$previous" ] && [ "$previous" != "$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$found")" ]; then
      "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true
    fi
    say "tagged $found (redis-server $version)"
  fi
  printf 'redis\t%s\n' "$found"
}

moto() {
  local version
  # The dev extras' pin, so the cluster runs the moto the other tests run.
  version=$(sed -n 's/^ *"moto\[server\]==\([^"]*\)".*/\1/p' pyproject.toml | head -n1)
  [ -n "$version" ] || fail 'no "moto[server]==VERSION" pin in pyproject.toml'
  local tag=localhost/ragops-moto:$version key
  key=$(key_of moto "$version")
  if image_exists "$tag" && [ "$(image_key "$tag")" = "$key" ]; then
    say "$tag present (key $key)"
  else
    build moto images/moto "$tag" "$key" "MOTO_VERSION=$version"
  fi
  printf 'moto\t%s\n' "$tag"
}

# One builder at a time: a second run waits, then finds the images present.
lock_dir=${XDG_CACHE_HOME:-$HOME/.cache}/ragops
mkdir -p "$lock_dir"
exec 9>"$lock_dir/dev-images.lock"
flock 9
ensure_base
for target in "${targets[@]}"; do
  "$target"
done
