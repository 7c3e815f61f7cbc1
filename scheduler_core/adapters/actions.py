"""Routes an action to the runner for its type, after checking that the job's secrets could be decrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler_core.adapters.clients import queue_service_url, storage_credential
from scheduler_core.adapters.http_action import HttpActionRunner, OutboundLimits
from scheduler_core.adapters.outbound_auth import OutboundAuth
from scheduler_core.adapters.secret_box import unreadable_reason
from scheduler_core.adapters.service_bus_action import ServiceBusActionRunner
from scheduler_core.adapters.storage_queue_action import StorageQueueActionRunner
from scheduler_core.adapters.target_guard import TargetGuard
from scheduler_core.ports import ActionRunner, Outcome
from scheduler_core.settings import Settings


class ActionDispatcher:
    """`ActionRunner` for every action type: Http, Https, StorageQueue, ServiceBusQueue, ServiceBusTopic.

    Args:
        settings: timeouts, limits, target guards, queue endpoints, OAuth authority.
        runners: replace the runner of some action types (tests).
    """

    def __init__(self, settings: Settings, runners: Mapping[str, ActionRunner] | None = None) -> None:
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
        self._runners: dict[str, ActionRunner] = {
            "Http": http,
            "Https": http,
            "StorageQueue": queue,
            "ServiceBusQueue": service_bus,
            "ServiceBusTopic": service_bus,
            **(runners or {}),
        }

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        reason = unreadable_reason(secrets)
        if reason:
            return Outcome(False, reason)
        runner = self._runners.get(action.get("type", ""))
        if runner is None:
            return Outcome(False, f"Actions of type {action.get('type')} cannot be executed by this deployment.")
        return runner.run(action, secrets, headers)
