"""The REST API of a deployment, as an Azure Scheduler client calls it: ARM paths, api-version, the error envelope.

Every method returns the wire JSON as the API sent it; failures raise `ApiError`, which carries the status, the ARM
error code and message, and the exit code the command line ends with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

API_VERSION = "2016-03-01"
PROVIDER = "Microsoft.Scheduler"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 0, 1, 2, 3, 4


class ApiError(Exception):
    """A request the API refused or could not answer.

    Attributes:
        status: the HTTP status (0 when the endpoint could not be reached).
        code: the ARM error code (`BadRequest`, `ResourceNotFound`, `ConflictError`, ...).
        message: the error message, with the JSON path of each detail.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.status, self.code, self.message = status, code, message

    @property
    def exit_code(self) -> int:
        """3 for a missing resource, 4 for a conflict (quota, state), 1 otherwise."""
        if self.status == 404:
            return EXIT_NOT_FOUND
        if self.status == 409:
            return EXIT_CONFLICT
        return EXIT_FAILED

    @classmethod
    def from_response(cls, response: requests.Response) -> ApiError:
        try:
            error = response.json()["error"]
            code, message = str(error.get("code", "")), str(error.get("message", ""))
            details = [f"{d.get('target')}: {d.get('message')}" for d in error.get("details") or [] if d.get("target")]
            details = [d for d in details if d not in message]  # this API's message already lists them
            if details:
                message = f"{message} ({'; '.join(details)})"
        except (ValueError, KeyError, TypeError, AttributeError):
            code, message = f"HTTP{response.status_code}", response.text[:500]
        return cls(response.status_code, code, message)


@dataclass(frozen=True)
class Target:
    """Where requests go: the deployment's base URL, the subscription and resource group, and how to authenticate.

    `audience` set: a bearer token for `{audience}/.default` from azure-identity's DefaultAzureCredential.
    """

    endpoint: str = "http://127.0.0.1:7071"
    subscription: str = "local"
    resource_group: str = "local"
    audience: str | None = None
    timeout: float = 60.0


class SchedulerClient:
    """A thread-safe client of one resource group of a deployment (one pooled session shared by every thread)."""

    def __init__(self, target: Target, *, pool: int = 16) -> None:
        self.target = target
        self.session = requests.Session()
        # Idempotent requests are retried on a dropped connection or a 429/502/503/504 (honouring Retry-After), so a
        # busy host does not fail one job of a long import; POST (run, enable, disable) is never repeated.
        retry = Retry(total=4, connect=3, read=0, status=3, backoff_factor=0.5, raise_on_status=False,
                      status_forcelist=(429, 502, 503, 504), allowed_methods=frozenset({"GET", "PUT", "DELETE"}))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._token: Callable[[], str] | None = _token_source(target.audience) if target.audience else None

    # ---- paths ---------------------------------------------------------------------------------------------------

    def collections_path(self) -> str:
        t = self.target
        group = f"/subscriptions/{quote(t.subscription)}/resourceGroups/{quote(t.resource_group)}"
        return f"{group}/providers/{PROVIDER}/jobCollections"

    def collection_path(self, collection: str) -> str:
        return f"{self.collections_path()}/{quote(collection)}"

    def job_path(self, collection: str, job: str) -> str:
        return f"{self.collection_path(collection)}/jobs/{quote(job)}"

    # ---- transport -----------------------------------------------------------------------------------------------

    def request(self, method: str, path_or_url: str, body: Any = None, **params: Any) -> Any:
        """Send one request; returns the JSON body (None when empty). Raises ApiError for a status >= 400."""
        url = path_or_url if path_or_url.startswith("http") else self.target.endpoint.rstrip("/") + path_or_url
        if not path_or_url.startswith("http"):
            params.setdefault("api-version", API_VERSION)
        headers = {"Authorization": f"Bearer {self._token()}"} if self._token else {}
        try:
            response = self.session.request(
                method, url, json=body, params={k: v for k, v in params.items() if v is not None},
                headers=headers, timeout=self.target.timeout,
            )
        except requests.RequestException as exc:
            raise ApiError(0, "Unreachable", f"cannot reach {self.target.endpoint}: {exc.__class__.__name__}") from None
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "InvalidResponse",
                           f"{url} answered {response.status_code} without JSON: is --endpoint a scheduler?") from None

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a pageable list, following `nextLink` to the end."""
        page = self.request("GET", path, **params)
        while True:
            yield from page.get("value") or []
            link = page.get("nextLink")
            if not link:
                return
            page = self.request("GET", link)

    # ---- collections ---------------------------------------------------------------------------------------------

    def list_collections(self) -> list[dict[str, Any]]:
        return list(self.pages(self.collections_path()))

    def get_collection(self, name: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("GET", self.collection_path(name)))

    def put_collection(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("PUT", self.collection_path(name), body))

    def patch_collection(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("PATCH", self.collection_path(name), body))

    def delete_collection(self, name: str) -> None:
        self.request("DELETE", self.collection_path(name))

    def set_collection_state(self, name: str, enable: bool) -> None:
        self.request("POST", f"{self.collection_path(name)}/{'enable' if enable else 'disable'}")

    # ---- jobs ----------------------------------------------------------------------------------------------------

    def list_jobs(self, collection: str, *, state: str | None = None, top: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page_size = min(top, 100) if top else None
        for item in self.pages(f"{self.collection_path(collection)}/jobs", **{
            "$filter": f"state eq '{state}'" if state else None, "$top": page_size,
        }):
            items.append(item)
            if top and len(items) >= top:
                break
        return items

    def get_job(self, collection: str, job: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("GET", self.job_path(collection, job)))

    def put_job(self, collection: str, job: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("PUT", self.job_path(collection, job), body))

    def patch_job(self, collection: str, job: str, body: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("PATCH", self.job_path(collection, job), body))

    def delete_job(self, collection: str, job: str) -> None:
        self.request("DELETE", self.job_path(collection, job))

    def run_job(self, collection: str, job: str) -> None:
        self.request("POST", f"{self.job_path(collection, job)}/run")

    def history(
        self, collection: str, job: str, *, status: str | None = None, top: int | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params = {"$filter": f"status eq '{status}'" if status else None, "$top": min(top, 100) if top else None}
        for item in self.pages(f"{self.job_path(collection, job)}/history", **params):
            items.append(item)
            if top and len(items) >= top:
                break
        return items

    def preview_job(self, collection: str, job: str, count: int) -> list[str]:
        return cast(list[str], self.request("GET", f"{self.job_path(collection, job)}/preview", count=count)["value"])


def _token_source(audience: str) -> Callable[[], str]:
    """Bearer tokens for the deployment's Entra audience, refreshed by azure-identity when they near expiry."""
    from azure.identity import DefaultAzureCredential  # imported only against Azure: slow, and unused locally

    credential = DefaultAzureCredential()
    scope = audience if audience.endswith("/.default") else f"{audience.rstrip('/')}/.default"
    cached: dict[str, Any] = {}
    lock = threading.Lock()

    def token() -> str:
        import time

        with lock:
            current = cached.get("token")
            if current is None or current.expires_on - 300 < time.time():
                current = cached["token"] = credential.get_token(scope)
            return str(current.token)

    return token
