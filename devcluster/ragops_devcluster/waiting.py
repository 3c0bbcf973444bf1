"""Polling with a deadline: every wait in the dev cluster and its tests goes through here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ragops_devcluster.errors import DeadlineExceeded

T = TypeVar("T")


@dataclass(frozen=True)
class Pending:
    """Returned by a probe that is not satisfied yet; `reason` ends up in the timeout message."""

    reason: str


def wait_until(
    probe: Callable[[], T | Pending],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
) -> T:
    """Call `probe` until it returns something other than `Pending`, or raise at the deadline.

    Exceptions from the probe propagate at once: a probe catches only what it expects to be
    transient, so real errors are not hidden behind a timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        outcome = probe()
        if not isinstance(outcome, Pending):
            return outcome
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(
                f"timed out after {timeout:.0f}s waiting for {what}: {outcome.reason}"
            )
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
