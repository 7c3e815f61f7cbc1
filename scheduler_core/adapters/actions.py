"""Routes an action to the runner for its type, after checking that the job's secrets could be decrypted.

The `ActionRunner` port takes the typed action and the job's secrets by JSON path; the runner of each type
(`KindRunner`) gets the action with its secret fields filled in (`secrets.with_secrets`) and reads its typed payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from scheduler_core.adapters.clients import queue_service_url, storage_credential
from scheduler_core.adapters.http_action import HttpActionRunner, OutboundLimits
from scheduler_core.adapters.outbound_auth import OutboundAuth
from scheduler_core.adapters.secret_box import unreadable_reason
from scheduler_core.adapters.service_bus_action import ServiceBusActionRunner
from scheduler_core.adapters.storage_queue_action import StorageQueueActionRunner
from scheduler_core.adapters.target_guard import TargetGuard
from scheduler_core.domain.definition import Action, JobActionType
from scheduler_core.ports import Outcome
from scheduler_core.secrets import with_secrets
from scheduler_core.settings import Settings


class KindRunner(Protocol):
    """A runner of one kind of action: `action` has its secret fields filled in; `secrets` are what its messages
    must not quote."""

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome: ...


class ActionDispatcher:
    """`ActionRunner` for every action type (`JobActionType`).

    Args:
        settings: timeouts, limits, target guards, queue endpoints, OAuth authority.
        runners: replace the runner of some action types (tests).
    """

    def __init__(self, settings: Settings, runners: Mapping[JobActionType, KindRunner] | None = None) -> None:
        guard = TargetGuard(
            allow_loopback=settings.allow_loopback_targets, allow_link_local=settings.allow_link_local_targets
        )
        timeout = settings.http_timeout_seconds
        http = HttpActionRunner(
            timeout_seconds=timeout,
            snippet_bytes=settings.history_snippet_bytes,
            limits=OutboundLimits(
                max_uri_chars=settings.max_uri_chars,
                max_body_chars=settings.max_request_body_chars,
                max_headers=settings.max_headers,
                max_header_chars=settings.max_header_chars,
            ),
            guard=guard,
            auth=OutboundAuth(
                authority_host=settings.oauth_authority_host,
                timeout_seconds=timeout,
                managed_identity_audiences=settings.managed_identity_audiences,
                outbound_identity_client_id=settings.outbound_identity_client_id,
            ),
        )
        queue = StorageQueueActionRunner(
            endpoints=settings.storage_queue_endpoints,
            region=settings.region,
            timeout_seconds=timeout,
            guard=guard,
            identity_queues=settings.identity_queues,
            identity=lambda: storage_credential(settings.storage),
            own_queue_endpoint=queue_service_url(settings.storage),
        )
        service_bus = ServiceBusActionRunner(timeout_seconds=timeout, guard=guard)
        self._runners: dict[JobActionType, KindRunner] = {
            JobActionType.HTTP: http,
            JobActionType.HTTPS: http,
            JobActionType.STORAGE_QUEUE: queue,
            JobActionType.SERVICE_BUS_QUEUE: service_bus,
            JobActionType.SERVICE_BUS_TOPIC: service_bus,
            **(runners or {}),
        }

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        reason = unreadable_reason(secrets)
        if reason:
            return Outcome(False, reason)
        runner = self._runners.get(action.type)
        if runner is None:
            return Outcome(False, f"Actions of type {action.type.value} cannot be executed by this deployment.")
        return runner.run(with_secrets(action, secrets), secrets, headers)
