"""ARM paths with their fixed segments in any case.

Azure Resource Manager matches the fixed segments of a resource path case-insensitively (`resourcegroups`,
`microsoft.scheduler`, `jobcollections`), and resource ids come back from some tools in lower case, so clients that
build a URL from a saved id send them so. The routes are spelt as the swagger spells them; this middleware rewrites a
request's fixed segments to that spelling before routing. It goes by position, so a collection or job whose name
happens to be `jobs` or `history` keeps its name exactly as sent.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

# The fixed segments by position, for each shape of path the API serves (segment 0 is the first after the "/"): at
# each position, the words that may stand there.
_Fixed = dict[int, tuple[str, ...]]

_SUBSCRIPTION_LEVEL: _Fixed = {
    0: ("subscriptions",), 2: ("providers",), 3: ("Microsoft.Scheduler",), 4: ("jobCollections",),
}
_GROUP_LEVEL: _Fixed = {
    0: ("subscriptions",), 2: ("resourceGroups",), 4: ("providers",), 5: ("Microsoft.Scheduler",),
    6: ("jobCollections",), 8: ("jobs", "enable", "disable"),
}
_JOB_LEVEL: _Fixed = {10: ("history", "run", "preview")}  # under .../jobs/{job}
_PROVIDER_LEVEL: _Fixed = {0: ("providers",), 1: ("Microsoft.Scheduler",), 2: ("previewRecurrence",)}


def canonical_path(path: str) -> str:
    """`path` with the fixed segments of an ARM path spelt as the routes spell them; any other path unchanged."""
    segments = path.split("/")[1:]
    lower = [s.lower() for s in segments]

    def spell(fixed: _Fixed) -> None:
        for i, words in fixed.items():
            if i < len(segments):
                segments[i] = next((word for word in words if word.lower() == lower[i]), segments[i])

    if lower[:1] == ["subscriptions"] and lower[2:3] == ["resourcegroups"]:
        spell(_GROUP_LEVEL)
        if segments[8:9] == ["jobs"]:
            spell(_JOB_LEVEL)
    elif lower[:1] == ["subscriptions"]:
        spell(_SUBSCRIPTION_LEVEL)
    elif lower[:1] == ["providers"]:
        spell(_PROVIDER_LEVEL)
    else:
        return path
    return "/" + "/".join(segments)


class CanonicalArmPaths:
    """ASGI middleware: `canonical_path` applied to each HTTP request's path before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = canonical_path(scope["path"])
            if path != scope["path"]:
                scope = {**scope, "path": path}
                if scope.get("raw_path"):  # percent-encoded names stay as sent; the fixed segments are ASCII
                    scope["raw_path"] = canonical_path(scope["raw_path"].decode("latin-1")).encode("latin-1")
        await self._app(scope, receive, send)
