"""The operator console: server-rendered pages over the service layer, with a vendored htmx for partial updates.

`install_console(app, services)` mounts it at `/console/` (and `/` redirects there); `views.py` has the pages,
`security.py` the cross-site request protection, `templates/` and `static/` what a browser receives. Nothing is
loaded from another host.
"""

from __future__ import annotations

from scheduler_core.api.console.views import install_console

__all__ = ["install_console"]
