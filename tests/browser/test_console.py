"""The operator console in a real headless Chromium, against the local host: jobs created through the REST API are
seen, run, disabled and inspected through the pages, and the page never reaches another host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.tests.running import wait_for
from tests.browser.conftest import INSTALL_HINT, browser_available, in_ci
from tests.support.api import SchedulerApi, unique
from tests.support.target import Target

if not browser_available():
    pytest.skip(INSTALL_HINT, allow_module_level=True)
if in_ci():  # CI=true: the browser tests must run, so a missing playwright is an error, never a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
# The first test may wait for apt-get to install Chromium (CI=true, as root): more than the default 300 s.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
WAIT_MS = 30_000


def http_job(uri: str, **properties: Any) -> dict[str, Any]:
    action = {"type": "Http", "request": {"uri": uri, "method": "POST", "body": "hi"},
              "retryPolicy": {"retryType": "None"}}
    return {"properties": {"action": action, **properties}}


def hourly_from_tomorrow() -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return {"startTime": start.isoformat(), "recurrence": {"frequency": "Hour", "interval": 1}}


def put_job(api: SchedulerApi, collection: str, name: str, body: dict[str, Any]) -> None:
    response = api.call("PUT", api.job_path(collection, name), body)
    assert response.status_code in (200, 201), response.text


def console_path(collection: str) -> str:
    return f"/console/sub-1/rg-1/{collection}/"


def test_collections_and_job_list_show_jobs_with_their_states(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "alpha-report", http_job(f"{target.url}/a", **hourly_from_tomorrow()))
    put_job(api, collection, "beta-cleanup", http_job(f"{target.url}/b", state="Disabled", **hourly_from_tomorrow()))

    page.goto("/")
    row = page.locator(f"tr[data-collection='{collection}']")
    row.wait_for(timeout=WAIT_MS)
    assert "2 / 50 jobs" in row.inner_text()

    row.get_by_role("link", name=collection).click()
    page.locator("tr[data-job='alpha-report']").wait_for()
    assert "Enabled" in page.locator("tr[data-job='alpha-report'] td.state").inner_text()
    assert "Disabled" in page.locator("tr[data-job='beta-cleanup'] td.state").inner_text()
    assert "every hour" in page.locator("tr[data-job='alpha-report']").inner_text()
    # The next run column says what the API says: a Disabled job has none (it would only record Postponed).
    next_runs = {name: page.locator(f"tr[data-job='{name}'] td").nth(4).inner_text().strip()
                 for name in ("alpha-report", "beta-cleanup")}
    assert next_runs["beta-cleanup"] == "none"
    assert next_runs["alpha-report"] != "none"
    page.evaluate("window.notReloaded = true")
    put_job(api, collection, "gamma-late", http_job(f"{target.url}/c", **hourly_from_tomorrow()))
    page.locator("tr[data-job='gamma-late']").wait_for(timeout=WAIT_MS)  # the list refreshes by itself
    assert page.evaluate("window.notReloaded") is True

    page.get_by_label("Name contains").fill("beta")
    page.locator("tr[data-job='alpha-report']").wait_for(state="detached", timeout=WAIT_MS)
    assert page.locator("tr[data-job='beta-cleanup']").count() == 1
    assert "q=beta" in page.url


def test_job_page_shows_next_fire_times_and_run_now_calls_the_target_once(
    page: Any, api: SchedulerApi, target: Target
) -> None:
    collection = api.new_collection()
    name = unique("run")
    put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))

    page.goto(f"{console_path(collection)}jobs/{name}/")
    assert page.locator(".fire-times li").count() == 10
    page.evaluate("window.notReloaded = true")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Run now").click()
    page.locator("#history-list tr[data-status='Completed']").wait_for(timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True
    wait_for(lambda: target.requests_to(f"/{name}"), "the target to be called")
    assert len(target.requests_to(f"/{name}")) == 1
    expect(page.locator("#live [data-executions]")).to_have_text("1", timeout=WAIT_MS)  # the counters follow


def test_the_job_page_works_from_the_keyboard(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    name = unique("keys")
    put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))
    page.goto(f"{console_path(collection)}jobs/{name}/")
    for _ in range(20):  # skip link, breadcrumbs, API docs, then the actions
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Run now":
            break
    else:
        pytest.fail("Run now cannot be reached with the Tab key")
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    page.locator("#history-list tr[data-status='Completed']").wait_for(timeout=WAIT_MS)
    assert len(target.requests_to(f"/{name}")) == 1


def test_disabling_a_collection_disables_its_jobs(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "one", http_job(f"{target.url}/one", **hourly_from_tomorrow()))
    page.goto("/console/")
    row = page.locator(f"tr[data-collection='{collection}']")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable collection").click()
    row.get_by_role("button", name="Enable collection").wait_for(timeout=WAIT_MS)
    assert "Disabled" in row.locator("td").nth(1).inner_text()
    assert api.call("GET", api.job_path(collection, "one")).json()["properties"]["state"] == "Disabled"


def test_disable_with_a_reason_is_kept_and_shown(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    name = unique("pause")
    put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))

    page.goto(f"{console_path(collection)}jobs/{name}/")
    page.get_by_label("Reason").fill("upstream maintenance until Friday")
    page.get_by_role("button", name="Disable", exact=True).click()
    note = page.locator("#live [data-note]")
    note.wait_for(timeout=WAIT_MS)
    assert "disabled by local at" in note.inner_text()
    assert note.inner_text().endswith(": upstream maintenance until Friday")
    assert api.call("GET", api.job_path(collection, name)).json()["properties"]["state"] == "Disabled"

    page.goto(console_path(collection))
    assert "upstream maintenance until Friday" in page.locator(f"tr[data-job='{name}']").inner_text()


def test_a_failed_runs_message_opens_from_the_history(page: Any, api: SchedulerApi) -> None:
    failing = Target(respond=lambda path: 503)
    try:
        collection = api.new_collection()
        name = unique("fail")
        put_job(api, collection, name, http_job(f"{failing.url}/{name}", **hourly_from_tomorrow()))
        page.goto(f"{console_path(collection)}jobs/{name}/")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Run now").click()
        failed = page.locator("#history-list tr[data-status='Failed']")
        failed.wait_for(timeout=WAIT_MS)
        failed.locator("summary").click()
        message = failed.locator("pre")
        message.wait_for()
        assert "503" in message.inner_text()
        assert failed.get_by_role("button", name="Copy message").is_visible()
    finally:
        failing.close()


def test_bad_input_shows_the_apis_error_message_in_the_page(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    name = unique("keep")
    put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))
    page.goto(f"{console_path(collection)}jobs/{name}/")
    page.get_by_label("Type the job's name to delete it").fill("not-the-name")
    page.get_by_role("button", name="Delete").click()
    page.locator("#flash .flash-error").wait_for(timeout=WAIT_MS)
    assert f"type the job's name '{name}' to delete it" in page.locator("#flash").inner_text()
    assert api.call("GET", api.job_path(collection, name)).status_code == 200

    api.call("DELETE", api.job_path(collection, name))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Run now").click()
    page.locator("#flash .flash-error").filter(has_text="could not be found").wait_for(timeout=WAIT_MS)


def test_api_docs_render_from_local_assets(page: Any) -> None:
    page.goto("/docs")
    page.locator(".swagger-ui .info").wait_for(timeout=WAIT_MS)
    assert "Azure Scheduler" in page.locator(".swagger-ui .info").inner_text()


def test_bulk_disable_with_a_reason_then_enable(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    names = ["bulk-a", "bulk-b", "bulk-c"]
    for name in names:
        put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))

    page.goto(console_path(collection))
    page.get_by_label("Select bulk-a").check()
    page.get_by_label("Select bulk-c").check()
    page.get_by_label("Reason for disabling (optional)").fill("quarter close")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable selected").click()
    page.locator("#flash").filter(has_text="2 jobs").wait_for(timeout=WAIT_MS)
    page.locator("tr[data-job='bulk-a'] .note").wait_for(timeout=WAIT_MS)

    states = {n: api.call("GET", api.job_path(collection, n)).json()["properties"]["state"] for n in names}
    assert states == {"bulk-a": "Disabled", "bulk-b": "Enabled", "bulk-c": "Disabled"}
    assert "quarter close" in page.locator("tr[data-job='bulk-c']").inner_text()

    page.get_by_label("Select every job on this page").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Enable selected").click()
    page.locator("tr[data-job='bulk-a'] .note").wait_for(state="detached", timeout=WAIT_MS)
    assert {api.call("GET", api.job_path(collection, n)).json()["properties"]["state"] for n in names} == {"Enabled"}


def test_timeline_shows_planned_runs_and_a_past_cell_opens_its_history_entry(
    page: Any, api: SchedulerApi, target: Target
) -> None:
    collection = api.new_collection()
    name = unique("tl")
    put_job(api, collection, name, http_job(f"{target.url}/{name}", **hourly_from_tomorrow()))
    assert api.call("POST", api.job_path(collection, name) + "/run").status_code == 200
    wait_for(lambda: api.call("GET", api.job_path(collection, name) + "/history").json()["value"], "a history row")

    page.goto(f"{console_path(collection)}timeline?days=7")
    row = page.locator(f"tr[data-job='{name}']")
    assert row.locator(".cell.planned").count() > 0
    past = row.locator("a.cell.completed")
    assert past.count() == 1
    past.click()
    page.wait_for_url(f"**/jobs/{name}/#h-*")
    opened = page.locator("#history-list tr.target details[open]")
    opened.wait_for(timeout=WAIT_MS)
    assert "200" in opened.inner_text()


def test_a_secret_shows_as_set_never_its_value(page: Any, api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    name = unique("secret")
    body = http_job(f"{target.url}/{name}", **hourly_from_tomorrow())
    body["properties"]["action"]["request"]["authentication"] = {
        "type": "Basic", "username": "ops", "password": "hunter2-do-not-show"
    }
    put_job(api, collection, name, body)
    page.goto(f"{console_path(collection)}jobs/{name}/")
    facts = page.locator("dl.facts").last.inner_text()
    assert "Secret action.request.authentication.password\nset" in facts
    assert "hunter2" not in page.content()
