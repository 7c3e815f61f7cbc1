"""The job lifecycle as data: what users may change, and what only the scheduler does."""

from __future__ import annotations

import pytest

from scheduler_core.domain.errors import InvalidInput, StateConflict
from scheduler_core.domain.job import CollectionRef, JobEvent, JobRef, JobState, apply_event


@pytest.mark.parametrize(
    ("state", "event", "after"),
    [
        (JobState.ENABLED, JobEvent.DISABLE, JobState.DISABLED),
        (JobState.DISABLED, JobEvent.ENABLE, JobState.ENABLED),
        (JobState.ENABLED, JobEvent.COMPLETE, JobState.COMPLETED),
        (JobState.ENABLED, JobEvent.FAULT, JobState.FAULTED),
        (JobState.DISABLED, JobEvent.COMPLETE, JobState.COMPLETED),
    ],
)
def test_allowed_transitions(state: JobState, event: JobEvent, after: JobState) -> None:
    assert apply_event(state, event) is after


@pytest.mark.parametrize("final", [JobState.COMPLETED, JobState.FAULTED])
@pytest.mark.parametrize("event", [JobEvent.ENABLE, JobEvent.DISABLE])
def test_completed_and_faulted_jobs_cannot_change_state(final: JobState, event: JobEvent) -> None:
    with pytest.raises(StateConflict):
        apply_event(final, event)


def test_names_are_case_insensitive_keys_and_arm_ids_keep_their_case() -> None:
    job = JobRef(CollectionRef("Sub", "RG", "MyJobs"), "Nightly")
    assert job.key == JobRef(CollectionRef("sub", "rg", "myjobs"), "nightly").key
    assert job.arm_id.endswith("/resourceGroups/RG/providers/Microsoft.Scheduler/jobCollections/MyJobs/jobs/Nightly")


@pytest.mark.parametrize("name", ["a|b", "a/b", "", "x" * 101, "-lead"])
def test_names_that_cannot_be_storage_keys_are_rejected(name: str) -> None:
    with pytest.raises(InvalidInput):
        JobRef(CollectionRef("sub", "rg", "jc"), name)
