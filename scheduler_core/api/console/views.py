"""The console's pages and actions: each route reads the request, calls `service.console` (or a use case) in a
thread, and renders a template; htmx requests (`HX-Request`) get the fragment they target.

Pages: collections (`/console/`), a collection's jobs, its timeline, a job. Every POST passes
`security.check_post`; a failure of the use case shows the API's own error message in the page, in the same words
the REST API would answer, and nothing is half-done.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from scheduler_core.api.console import security
from scheduler_core.domain.errors import Conflict, InvalidInput, NotFound, SchedulerError
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.service import console
from scheduler_core.service import jobs as job_use_cases
from scheduler_core.service.context import Services

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
HISTORY_PAGE = 25
# The console's pages load nothing from another host; htmx evaluates its trigger filters with Function().
_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _relative(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = (when - now).total_seconds()
    span = abs(seconds)
    if span < 60:
        text = f"{int(span)} s"
    elif span < 3600:
        text = f"{int(span // 60)} min"
    elif span < 86400 * 2:
        text = f"{span / 3600:.1f} h".replace(".0 h", " h")
    else:
        text = f"{int(span // 86400)} days"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def _stamp(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["stamp"] = _stamp
    env.filters["iso"] = lambda when: when.astimezone(UTC).isoformat() if when else ""
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=False)
    env.filters["outcomes"] = lambda counts: ", ".join(f"{n} {status}" for status, n in counts.items())
    env.globals["relative"] = _relative
    return env


def _status_of(exc: SchedulerError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 400


def install_console(app: FastAPI, services: Callable[[], Services]) -> None:
    """Mount the console at /console/ (static files at /console/static/) and redirect / to it."""
    env = _environment()
    platform = security.Platform.from_env()

    def require_sign_in(request: Request) -> None:
        security.signed_in(request, platform)

    router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(require_sign_in)])

    def render(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        token, new = security.session_token(request)
        now = services().clock()
        html = env.get_template(template).render(request=request, token=token, now=now, base="/console", **context)
        response = HTMLResponse(html, status_code=code)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        if new:
            response.set_cookie(security.COOKIE, token, httponly=True, samesite="strict", path="/console",
                                secure=request.url.scheme == "https")
        return response

    def fragment(request: Request) -> bool:
        return request.headers.get("hx-request") == "true"

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, services(), *args, **kwargs)

    def error_page(request: Request, exc: SchedulerError) -> HTMLResponse:
        if fragment(request):
            return refused(request, exc)
        return render(request, "error.html", code=_status_of(exc), message=str(exc))

    def flash(request: Request, message: str, *, error: bool = False, status: int = 200,
              refresh: bool = False, details: list[tuple[str, str]] | None = None) -> HTMLResponse:
        response = render(request, "_flash.html", code=status, message=message, error=error, details=details or [])
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        if refresh:
            response.headers["HX-Trigger"] = "console-refresh"
        return response

    def refused(request: Request, exc: SchedulerError) -> HTMLResponse:
        """An operator's mistake answered to htmx is a message in the page (status 200, so the browser logs no failed
        load); the status the REST API would answer travels in `X-Console-Status`."""
        response = flash(request, str(exc), error=True)
        response.headers["X-Console-Status"] = str(_status_of(exc))
        return response

    async def posted(request: Request) -> dict[str, Any]:
        """The urlencoded form (htmx's and a plain form's encoding); repeated fields become lists."""
        body = (await request.body()).decode("utf-8", errors="replace")
        form: dict[str, Any] = {}
        for key, value in parse_qsl(body, keep_blank_values=True):
            if key in form:
                form[key] = [*form[key], value] if isinstance(form[key], list) else [form[key], value]
            else:
                form[key] = value
        security.check_post(request, {k: v for k, v in form.items() if isinstance(v, str)})
        return form

    def filters(request: Request) -> tuple[console.JobFilter, int]:
        q = request.query_params
        wanted = console.JobFilter(
            text=q.get("q", "").strip(), state=q.get("state", ""), action_type=q.get("action", ""),
            last_result=q.get("result", ""),
        )
        try:
            offset = max(0, int(q.get("offset", "0") or 0))
        except ValueError:
            raise InvalidInput("must be a whole number", "offset") from None
        return wanted, offset

    def query_of(wanted: console.JobFilter, **extra: Any) -> str:
        values = {"q": wanted.text, "state": wanted.state, "action": wanted.action_type, "result": wanted.last_result}
        values.update(extra)
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 0)})

    # ---- pages ------------------------------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    async def collections_page(request: Request) -> Response:
        summaries = await call(console.collection_summaries)
        template = "_collections.html" if fragment(request) else "collections.html"
        return render(request, template, collections=summaries)

    async def read_page(request: Request, sub: str, rg: str, name: str) -> tuple[Any, Any, int] | Response:
        """(the page of jobs, the filters, the offset) the request asks for, or the error page."""
        try:
            wanted, offset = filters(request)
            page = await call(console.job_page, CollectionRef(sub, rg, name), wanted, offset=offset, limit=PAGE_SIZE)
        except SchedulerError as exc:
            return error_page(request, exc)
        return page, wanted, offset

    @router.get("/{sub}/{rg}/{name}/", response_class=HTMLResponse)
    async def jobs_page(request: Request, sub: str, rg: str, name: str) -> Response:
        read = await read_page(request, sub, rg, name)
        if isinstance(read, Response):
            return read
        page, wanted, _ = read
        return render(request, "jobs.html", collection=page.collection, page=page, wanted=wanted,
                      query=query_of(wanted), query_of=query_of, states=[s for s in page.by_state],
                      results=console.LAST_RESULTS)

    @router.get("/{sub}/{rg}/{name}/rows", response_class=HTMLResponse)
    async def job_rows(request: Request, sub: str, rg: str, name: str) -> Response:
        read = await read_page(request, sub, rg, name)
        if isinstance(read, Response):
            return read
        page, wanted, offset = read
        response = render(request, "_jobs.html", collection_ref=CollectionRef(sub, rg, name), page=page, wanted=wanted,
                          query=query_of(wanted), query_of=query_of)
        page_query = query_of(wanted, offset=offset)
        response.headers["HX-Replace-Url"] = f"/console/{sub}/{rg}/{name}/" + (f"?{page_query}" if page_query else "")
        return response

    @router.get("/{sub}/{rg}/{name}/timeline", response_class=HTMLResponse)
    async def timeline_page(request: Request, sub: str, rg: str, name: str) -> Response:
        try:
            ref = CollectionRef(sub, rg, name)
            wanted, offset = filters(request)
            days = 7 if request.query_params.get("days") == "7" else 1
            line = await call(console.timeline, ref, wanted, days=days, offset=offset, limit=PAGE_SIZE)
        except SchedulerError as exc:
            return error_page(request, exc)
        template = "_timeline.html" if fragment(request) else "timeline.html"
        return render(request, template, collection=line.collection, collection_ref=ref, line=line, days=days,
                      wanted=wanted, query=query_of(wanted), query_of=query_of, offset=offset, limit=PAGE_SIZE)

    @router.get("/{sub}/{rg}/{name}/jobs/{job}/", response_class=HTMLResponse)
    async def job_page(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        try:
            ref = JobRef(CollectionRef(sub, rg, name), job)
            detail = await call(console.job_detail, ref)
            status = request.query_params.get("status", "")
            history = await call(console.history, ref, status=status, top=HISTORY_PAGE, token=None)
        except SchedulerError as exc:
            return error_page(request, exc)
        return render(request, "job.html", ref=ref, detail=detail, history=history, status=status, token_=None)

    @router.get("/{sub}/{rg}/{name}/jobs/{job}/live", response_class=HTMLResponse)
    async def job_live(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        try:
            ref = JobRef(CollectionRef(sub, rg, name), job)
            detail = await call(console.job_detail, ref)
        except SchedulerError as exc:
            return error_page(request, exc)
        return render(request, "_job_live.html", ref=ref, detail=detail)

    @router.get("/{sub}/{rg}/{name}/jobs/{job}/history", response_class=HTMLResponse)
    async def job_history(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        try:
            ref = JobRef(CollectionRef(sub, rg, name), job)
            status = request.query_params.get("status", "")
            token = request.query_params.get("token") or None
            history = await call(console.history, ref, status=status, top=HISTORY_PAGE, token=token)
        except SchedulerError as exc:
            return error_page(request, exc)
        return render(request, "_history.html", ref=ref, history=history, status=status, token_=token)

    # ---- actions ----------------------------------------------------------------------------------------------

    async def act(request: Request, action: Callable[[dict[str, Any]], Any], done: str) -> Response:
        try:
            form = await posted(request)
        except security.CrossSiteRequest as exc:
            return flash(request, str(exc), error=True, status=403)
        try:
            result = await action(form)
        except SchedulerError as exc:
            return refused(request, exc)
        if isinstance(result, Response):
            return result
        if isinstance(result, console.BulkResult):
            text = f"{done}: {len(result.done)} job{'s' if len(result.done) != 1 else ''}"
            if result.failed:
                text += f"; {len(result.failed)} failed"
            return flash(request, text, error=bool(result.failed), refresh=True, details=result.failed)
        return flash(request, done, refresh=True)

    def job_ref(sub: str, rg: str, name: str, job: str) -> JobRef:
        return JobRef(CollectionRef(sub, rg, name), job)

    @router.post("/{sub}/{rg}/{name}/jobs/{job}/run")
    async def run(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        async def go(form: dict[str, Any]) -> None:
            await call(job_use_cases.run_job, job_ref(sub, rg, name, job))

        return await act(request, go, f"Run of {job} requested")

    @router.post("/{sub}/{rg}/{name}/jobs/{job}/enable")
    async def enable(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        async def go(form: dict[str, Any]) -> None:
            await call(console.enable_job, job_ref(sub, rg, name, job))

        return await act(request, go, f"{job} enabled")

    @router.post("/{sub}/{rg}/{name}/jobs/{job}/disable")
    async def disable(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        async def go(form: dict[str, Any]) -> None:
            await call(console.disable_job, job_ref(sub, rg, name, job), security.principal(request, platform),
                       str(form.get("reason", "")))

        return await act(request, go, f"{job} disabled")

    @router.post("/{sub}/{rg}/{name}/jobs/{job}/delete")
    async def delete(request: Request, sub: str, rg: str, name: str, job: str) -> Response:
        async def go(form: dict[str, Any]) -> Response:
            await call(console.delete_job, job_ref(sub, rg, name, job), str(form.get("confirm", "")))
            response = Response(status_code=200)
            response.headers["HX-Redirect"] = f"/console/{sub}/{rg}/{name}/"
            return response

        return await act(request, go, f"{job} deleted")

    @router.post("/{sub}/{rg}/{name}/bulk")
    async def bulk(request: Request, sub: str, rg: str, name: str) -> Response:
        async def go(form: dict[str, Any]) -> console.BulkResult:
            names = form.get("names", [])
            names = [names] if isinstance(names, str) else list(names)
            result: console.BulkResult = await call(
                console.bulk, CollectionRef(sub, rg, name), str(form.get("action", "")), names,
                security.principal(request, platform), str(form.get("reason", "")),
            )
            return result

        return await act(request, go, "Done")

    @router.post("/{sub}/{rg}/{name}/state")
    async def collection_state(request: Request, sub: str, rg: str, name: str) -> Response:
        async def go(form: dict[str, Any]) -> None:
            if form.get("state") not in ("Enabled", "Disabled"):  # anything else must not disable every job
                raise InvalidInput("must be Enabled or Disabled", "state")
            enabled = form.get("state") == "Enabled"
            await call(console.set_collection_state, CollectionRef(sub, rg, name), enabled,
                       security.principal(request, platform), str(form.get("reason", "")))

        return await act(request, go, f"Job collection {name} updated")

    app.include_router(router)

    @app.exception_handler(security.SignInRequired)
    async def sign_in(_: Request, exc: security.SignInRequired) -> Response:
        if exc.login is not None:
            return RedirectResponse(exc.login, status_code=302)
        return PlainTextResponse(str(exc), status_code=401)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @app.get("/console", include_in_schema=False)
    async def console_without_slash() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)
