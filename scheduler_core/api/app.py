"""The FastAPI application: Azure Scheduler 2016-03-01 ARM paths, each route one call into the service.

Routes live in `api/routes/`, one module per resource, sharing the dependencies of `routes/common.py` (api-version,
references from the path, the services). Bodies are read as raw JSON (so PATCH can tell an explicit `null` from an
absent field and malformed JSON gets the ARM envelope), validated in `validation.py`, turned into typed values in
`models.py`, and handed to `scheduler_core.service`. OpenAPI lists the wire models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from scheduler_core.api import models
from scheduler_core.api.console import install_console
from scheduler_core.api.docs import install_docs
from scheduler_core.api.errors import install_error_handlers
from scheduler_core.api.paths import CanonicalArmPaths
from scheduler_core.api.routes import collections, jobs, preview
from scheduler_core.api.routes.common import API_VERSIONS, ServicesHolder
from scheduler_core.service.context import Services

__all__ = ["API_VERSIONS", "create_app"]


def create_app(services_factory: Callable[[], Services]) -> FastAPI:
    """Build the API. `services_factory` is called once, lazily, on the first request (in a worker thread)."""
    app = FastAPI(
        title="Azure Scheduler (revived)",
        version="2016-03-01",
        description="The Azure Scheduler 2016-03-01 management API on Azure Functions.",
        docs_url=None,  # served by install_docs from local files
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(CanonicalArmPaths)  # `resourcegroups`, `jobcollections`: ARM's fixed segments in any case
    _document_errors(app)
    app.state.services = holder = ServicesHolder(services_factory)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    for routes in (collections, jobs, preview):
        app.include_router(routes.router)
    install_docs(app)
    install_console(app, holder.sync)
    return app


def _document_errors(app: FastAPI) -> None:
    """OpenAPI: every operation fails with the ARM error envelope (FastAPI would document its own 422 instead)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            error_schemas = models.ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(error_schemas.pop("$defs", {}))
            schemas["ErrorResponse"] = error_schemas
            error = {
                "description": "The ARM error envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            }
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
                    operation.setdefault("responses", {})["default"] = error
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
