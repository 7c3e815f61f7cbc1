"""ARM's fixed path segments in any case (scheduler_core/api/paths.py); names are never rewritten."""

from __future__ import annotations

import pytest

from scheduler_core.api.paths import canonical_path

GROUP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Scheduler/jobCollections"


@pytest.mark.parametrize(
    ("sent", "routed"),
    [
        ("/SUBSCRIPTIONS/s/resourcegroups/rg/PROVIDERS/microsoft.scheduler/jobcollections", GROUP),
        (GROUP.lower() + "/c/JOBS/j/History", GROUP + "/c/jobs/j/history"),
        (GROUP.lower() + "/c/Enable", GROUP + "/c/enable"),
        (GROUP.lower() + "/c/jobs/j/RUN", GROUP + "/c/jobs/j/run"),
        ("/subscriptions/s/PROVIDERS/Microsoft.scheduler/JobCollections",
         "/subscriptions/s/providers/Microsoft.Scheduler/jobCollections"),
        ("/providers/microsoft.scheduler/PREVIEWRECURRENCE", "/providers/Microsoft.Scheduler/previewRecurrence"),
    ],
)
def test_fixed_segments_are_spelt_as_the_routes_spell_them(sent: str, routed: str) -> None:
    assert canonical_path(sent) == routed


@pytest.mark.parametrize(
    "path",
    [
        # names that happen to be fixed words, in the wrong case for one, stay exactly as sent
        "/subscriptions/JOBS/resourceGroups/History/providers/Microsoft.Scheduler/jobCollections/Jobs/jobs/RUN",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Scheduler/jobCollections/c/jobs/j/history/Extra",
        "/console/subscriptions/resourcegroups",
        "/docs",
        "/",
    ],
)
def test_names_and_other_paths_are_left_alone(path: str) -> None:
    assert canonical_path(path) == path
