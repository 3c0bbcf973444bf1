"""Errors the dev cluster reports to its users; each message says what to do next."""

from __future__ import annotations


class DevClusterError(Exception):
    """Base class: the CLI prints these without a traceback."""


class GoToolchainMissing(DevClusterError):
    """No usable `go` binary, or one too old for the pinned releases."""


class GoCommandFailed(DevClusterError):
    """A `go` command exited non-zero; the message carries its output tail."""


class BinariesNotBuilt(DevClusterError):
    """The cache holds no complete build for the pinned versions."""


class ComponentFailed(DevClusterError):
    """A control-plane process exited or never became healthy; the message carries its log tail."""


class DeadlineExceeded(DevClusterError):
    """A wait ran out of time; the message says what was awaited and the last observation."""


class KubectlFailed(DevClusterError):
    """kubectl exited non-zero or hung; the message carries its stderr."""


class ClusterNotRunning(DevClusterError):
    """No started cluster is recorded in the given directory."""
