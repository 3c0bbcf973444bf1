#!/usr/bin/env bash
# System packages the tests need, from Debian: redis-server (the real Redis the cache
# tests start), Chromium (the chat page's browser test; browser downloads do not work
# here), podman, runc and mmdebstrap (the image tests build and run the container image
# with scripts/build-image.sh, on Debian base images made with mmdebstrap), protoc (the
# Qdrant server's build in `ragops dev-cluster build`), runc, busybox-static and iptables (the
# real node of `ragops dev-cluster up --real-node`: its containers, its sandbox image, kube-proxy
# and the CNI portmap) and Node.js >= 20.19 with npm
# (`pip install` builds the chat page with it, see setup.py). Installs only what is missing;
# uses sudo when not run as root.
set -euo pipefail
NODE_MIN=20.19
packages=(redis-server chromium chromium-driver protobuf-compiler podman runc mmdebstrap busybox-static iptables)
missing=()
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

version_at_least() {  # version_at_least 20.20.2 20.19
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
node_ok=false
if command -v node >/dev/null && command -v npm >/dev/null \
  && version_at_least "$(node --version | tr -d v)" "$NODE_MIN"; then
  node_ok=true
fi
if [ "${#missing[@]}" -eq 0 ] && $node_ok; then
  exit 0
fi
"${as_root[@]}" apt-get update -qq
if ! $node_ok; then
  # Debian 13 has Node 20.19; Debian 12's Node 18 is too old for the page's build (Vite).
  candidate=$(apt-cache policy nodejs | awk '/Candidate:/ {print $2}')
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] \
    && version_at_least "${candidate%%[-+~]*}" "$NODE_MIN"; then
    missing+=(nodejs npm)
  else
    echo "Node.js >= $NODE_MIN with npm is needed and this system's packages have ${candidate:-none}:" \
      "install it from nodejs.org (or NodeSource's Debian packages), then run this again" >&2
    exit 1
  fi
fi
echo "Installing ${missing[*]} from Debian"
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
