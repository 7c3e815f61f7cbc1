"""`make screenshots`: PNGs of the console's collection, job list, job and timeline pages, into docs/.

Starts a private Azurite and the local host (as the tests do), creates a demo collection through the REST API, lets
a few jobs run against a local target (one of them failing), disables one with a reason through the console, and
photographs the pages in headless Chromium at 1400x900, light scheme, then the job list in the dark scheme too.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devhost.azurite import Azurite
from tests.browser.conftest import INSTALL_HINT, LAUNCH_ARGS
from tests.conftest import REPO, start_host
from tests.support.api import SchedulerApi
from tests.support.target import Target

DOCS = REPO / "docs" / "console"


def _job(uri: str, **properties: Any) -> dict[str, Any]:
    action = {"type": "Http", "request": {"uri": uri, "method": "POST", "body": "ping"},
              "retryPolicy": {"retryType": "None"}}
    return {"properties": {"action": action, **properties}}


def seed(api: SchedulerApi, ok: Target, failing: Target) -> str:
    """A demo collection (P20Premium) with jobs of every kind of schedule; returns its name."""
    name = "nightly-ops"
    body = {"location": "local", "properties": {"sku": {"name": "P20Premium"}}}
    assert api.call("PUT", api.collection_path(name), body).status_code in (200, 201)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    jobs = {
        "billing-export": _job(f"{ok.url}/billing", recurrence={
            "frequency": "Week", "timeZone": "Europe/Berlin",
            "schedule": {"weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                         "hours": [10, 12], "minutes": [30]}}),
        "cache-warmer": _job(f"{ok.url}/cache", recurrence={"frequency": "Minute", "interval": 1}),
        "health-probe": _job(f"{failing.url}/health", recurrence={"cron": "0 */5 * * * *"}),
        "invoice-reminder": _job(f"{ok.url}/invoices", recurrence={
            "frequency": "Month", "schedule": {"monthlyOccurrences": [{"day": "Friday", "occurrence": -1}],
                                               "hours": [9], "minutes": [0]}}),
        "partner-sync": _job(f"{failing.url}/partner", recurrence={"frequency": "Hour", "interval": 2}),
        "report-archive": _job(f"{ok.url}/archive", startTime=tomorrow.isoformat()),
        "search-reindex": _job(f"{ok.url}/reindex", recurrence={"frequency": "Day", "schedule": {"hours": [3],
                                                                                                   "minutes": [15]}}),
    }
    for job, definition in jobs.items():
        response = api.call("PUT", api.job_path(name, job), definition)
        assert response.status_code in (200, 201), response.text
    for job in ("billing-export", "partner-sync", "search-reindex", "invoice-reminder"):
        api.call("POST", api.job_path(name, job) + "/run")
    return name


def main() -> None:
    executable = shutil.which("chromium")
    if executable is None:
        sys.exit(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    DOCS.mkdir(parents=True, exist_ok=True)
    ok, failing = Target(), Target(respond=lambda path: 503)
    with Azurite.start(repo_root=REPO) as azurite, tempfile.TemporaryDirectory() as tmp:
        host, url = start_host(azurite, Path(tmp) / "host.log")
        try:
            api = SchedulerApi(url)
            collection = seed(api, ok, failing)
            time.sleep(8)  # let the minutely job and the run-now requests reach history
            base = f"{url}/console/sub-1/rg-1/{collection}/"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
                for scheme in ("light", "dark"):
                    page = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
                    suffix = "" if scheme == "light" else "-dark"
                    if scheme == "light":
                        page.goto(f"{base}jobs/partner-sync/")
                        page.get_by_label("Reason").fill("partner API down, ticket OPS-1234")
                        page.get_by_role("button", name="Disable", exact=True).click()
                        page.locator("#live [data-note]").wait_for()
                        page.goto(f"{url}/console/")
                        page.screenshot(path=DOCS / "collections.png", full_page=True)
                    page.goto(base)
                    page.screenshot(path=DOCS / f"jobs{suffix}.png", full_page=True)
                    if scheme == "light":
                        page.goto(f"{base}jobs/partner-sync/")
                        failed = page.locator("#history-list tr[data-status='Failed']").first
                        failed.locator("summary").click()
                        page.screenshot(path=DOCS / "job.png", full_page=True)
                        page.goto(f"{base}timeline")
                        page.screenshot(path=DOCS / "timeline.png", full_page=True)
                    page.close()
                browser.close()
        finally:
            host.terminate()
            ok.close()
            failing.close()
    for png in sorted(DOCS.glob("*.png")):
        print(f"wrote {png.relative_to(REPO)}")


if __name__ == "__main__":
    main()
