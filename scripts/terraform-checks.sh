#!/usr/bin/env bash
# Terraform checks that run without a cloud account or provider downloads.
#
#   bash scripts/terraform-checks.sh install   # build OpenTofu and tflint (Go), install checkov (own venv), if missing
#   bash scripts/terraform-checks.sh check     # install, then fmt, tflint, checkov and the HCL tests (pytest)
#
# Tools are cached under ~/.cache/ragops/tools (RAGOPS_TOOLS_DIR), keyed by version; cold they
# take about 10 minutes on 2 busy cores, then nothing. See docs/terraform.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || { echo "terraform-checks: $PYTHON not found; create the venv first (README, Set up)" >&2; exit 1; }

case "${1:-check}" in
  install)
    exec "$PYTHON" -m tests.terraform.tools install ;;
  check)
    "$PYTHON" -m tests.terraform.tools install
    exec "$PYTHON" -m pytest tests/terraform -q ;;
  paths)
    exec "$PYTHON" -m tests.terraform.tools paths ;;
  *)
    echo "usage: $0 install|check|paths" >&2; exit 2 ;;
esac
