"""A throwaway function app that records what each trigger received, written into a test's directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FUNCTION_APP = """
import json
import os
import uuid

import azure.functions as func
from fastapi import FastAPI, Request

api = FastAPI()


@api.get("/v1/fast/items/{item}")
async def item(item: str, request: Request) -> dict:
    return {"item": item, "invocation_id": request.scope.get("azure_functions.invocation_id")}


app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)


def record(kind: str, data: dict) -> None:
    path = os.path.join(os.environ["RECORD_DIR"], f"{kind}-{uuid.uuid4()}.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)


@app.route(route="hello/{name}", methods=["GET"])
def hello(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    body = {"name": req.route_params["name"], "q": req.params.get("q"), "function": context.function_name}
    response = func.HttpResponse(json.dumps(body), mimetype="application/json")
    response.headers.add("Set-Cookie", "a=1")
    response.headers.add("Set-Cookie", "b=2")
    return response


@app.route(route="broken", methods=["GET"])
async def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("broken on purpose")


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    record("timer", {"past_due": timer.past_due})


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    record("work", {"id": msg.id, "body": msg.get_body().decode(), "dequeue_count": msg.dequeue_count})


@app.queue_trigger(arg_name="msg", queue_name="%FAIL_QUEUE%", connection="AzureWebJobsStorage")
def fail(msg: func.QueueMessage) -> None:
    record("fail", {"id": msg.id, "dequeue_count": msg.dequeue_count})
    raise RuntimeError("failing on purpose")
"""


def write_app(app_dir: Path, queues: dict[str, Any]) -> Path:
    """Writes the sample app with the given host.json ``extensions.queues`` section.

    Returns:
        The app directory.
    """
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "function_app.py").write_text(FUNCTION_APP)
    host = {"version": "2.0", "extensions": {"http": {"routePrefix": "v1"}, "queues": queues}}
    (app_dir / "host.json").write_text(json.dumps(host))
    settings = {
        "IsEncrypted": False,
        "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": "UseDevelopmentStorage=true"},
    }
    (app_dir / "local.settings.json").write_text(json.dumps(settings))
    return app_dir


def records(record_dir: Path, kind: str) -> list[dict[str, Any]]:
    """Returns what the app recorded for one kind of trigger."""
    return [json.loads(path.read_text()) for path in sorted(record_dir.glob(f"{kind}-*.json"))]
