"""The job error rule, written once in the domain and applied by both catalogs (SQLite, Redis)."""

from __future__ import annotations

import pytest

from ragops_core.domain import ErrorChange, JobState, job_error_change


@pytest.mark.parametrize(
    ("state", "error", "change"),
    [
        (None, "boom", ErrorChange.SET),
        (JobState.FAILED, "boom", ErrorChange.SET),
        (JobState.PROCESSING, "retrying after boom", ErrorChange.SET),
        (JobState.PROCESSING, None, ErrorChange.CLEAR),
        (JobState.READY, None, ErrorChange.CLEAR),
        (JobState.QUEUED, None, ErrorChange.KEEP),
        (JobState.FAILED, None, ErrorChange.KEEP),
        (None, None, ErrorChange.KEEP),
    ],
)
def test_a_given_error_is_kept_and_processing_or_ready_clears_it(
    state: JobState | None, error: str | None, change: ErrorChange
) -> None:
    assert job_error_change(state, error) is change
