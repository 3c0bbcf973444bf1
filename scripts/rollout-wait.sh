#!/usr/bin/env bash
# Blue/green release of a RAGDeployment by its operator: set spec.image, then wait until the
# new image serves and has passed the operator's observation, or fail with the operator's reason.
#
#   scripts/rollout-wait.sh NAMESPACE NAME IMAGE [TIMEOUT_SECONDS]
#
# Exit 0: status.api.activeImage is IMAGE, the rollout phase is Retiring or Stable (observation
# passed) and Ready is True. Exit 1: the rollout was rolled back or aborted (the operator's reason
# and message are printed), or TIMEOUT_SECONDS (default 1800) passed. Exit 2: usage.
# KUBECTL overrides the kubectl binary (the pipeline's image has it on PATH).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 NAMESPACE NAME IMAGE [TIMEOUT_SECONDS]" >&2
  exit 2
fi
namespace=$1 name=$2 image=$3 timeout=${4:-1800}
kubectl=${KUBECTL:-kubectl}
case "$timeout" in '' | *[!0-9]*) echo "TIMEOUT_SECONDS must be a number" >&2; exit 2 ;; esac

# One read per poll: the fields below come from the same version of the object; "|" and not a
# tab between them, as read collapses runs of whitespace delimiters (empty fields would shift).
jsonpath='{.metadata.generation}{"|"}{.status.observedGeneration}{"|"}{.status.api.activeImage}'
jsonpath+='{"|"}{.status.api.rollout.phase}{"|"}{.status.conditions[?(@.type=="Ready")].status}'
jsonpath+='{"|"}{.status.api.rollout.reason}{"|"}{.status.api.rollout.message}'
read_status() {
  "$kubectl" -n "$namespace" get ragdeployment "$name" -o "jsonpath=$jsonpath"
}

patch=$(printf '{"spec":{"image":"%s"}}' "$image")
"$kubectl" -n "$namespace" patch ragdeployment "$name" --type merge -p "$patch" >/dev/null
echo "RAGDeployment $namespace/$name: image set to $image; waiting for the operator's rollout"

deadline=$((SECONDS + timeout))
last=""
while :; do
  IFS="|" read -r generation observed active phase ready reason message < <(read_status; echo)
  now="phase=${phase:-Stable} active=${active:-?} Ready=${ready:-?} ${reason:+($reason)}"
  [ "$now" != "$last" ] && echo "  $now" && last=$now
  if [ -n "$observed" ] && [ "$observed" -ge "$generation" ]; then
    # Success first: a phase left over from an earlier rollout must not fail this one.
    if [ "$active" = "$image" ] && [ "$ready" = "True" ] \
      && { [ -z "$phase" ] || [ "$phase" = "Stable" ] || [ "$phase" = "Retiring" ]; }; then
      echo "RAGDeployment $namespace/$name serves $image"
      exit 0
    fi
    if [ "$active" != "$image" ] && { [ "$phase" = "RolledBack" ] || [ "$phase" = "Aborted" ]; }; then
      echo "RAGDeployment $namespace/$name: rollout of $image ${phase}: ${reason}: ${message}" >&2
      echo "  (kubectl -n $namespace describe ragdeployment $name shows its Events)" >&2
      exit 1
    fi
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "RAGDeployment $namespace/$name: $image not serving after ${timeout}s ($now)" >&2
    exit 1
  fi
  sleep 2
done
