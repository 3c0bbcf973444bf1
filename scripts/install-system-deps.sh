#!/usr/bin/env bash
# System packages the tests need, from Debian: redis-server (the real Redis the cache
# tests start), Chromium (the chat page's browser test; browser downloads do not work
# here) and protoc (the Qdrant server's build in `ragops dev-cluster build`). Installs
# only what is missing; uses sudo when not run as root.
set -euo pipefail
packages=(redis-server chromium chromium-driver protobuf-compiler)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "Installing ${missing[*]} from Debian"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
