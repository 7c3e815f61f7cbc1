"""A small client for the scheduler's REST API, as an Azure Scheduler user would call it."""

from __future__ import annotations

import uuid
from typing import Any

import requests

API_VERSION = "2016-03-01"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class SchedulerApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def collection_path(self, collection: str, subscription: str = "sub-1", group: str = "rg-1") -> str:
        return (
            f"/subscriptions/{subscription}/resourceGroups/{group}"
            f"/providers/Microsoft.Scheduler/jobCollections/{collection}"
        )

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        params.setdefault("api-version", API_VERSION)
        return self.session.request(method, f"{self.base_url}{path}", json=body, params=params, timeout=30)

    def new_collection(self, **properties: Any) -> str:
        name = unique("jc")
        body = {"location": "local", "properties": {"sku": {"name": "Standard"}, **properties}}
        response = self.call("PUT", self.collection_path(name), body)
        assert response.status_code == 201, response.text
        return name

    def job_path(self, collection: str, job: str) -> str:
        return f"{self.collection_path(collection)}/jobs/{job}"


def put_job(api: SchedulerApi, collection: str, properties: dict[str, Any]) -> str:
    """Create a job of a unique name with `properties` (expects 201); returns its name."""
    job = unique("job")
    response = api.call("PUT", api.job_path(collection, job), {"properties": properties})
    assert response.status_code == 201, response.text
    return job


def job_of(api: SchedulerApi, collection: str, job: str) -> dict[str, Any]:
    """The job's `properties` as GET returns them."""
    return api.call("GET", api.job_path(collection, job)).json()["properties"]
