"""What the process environment tells outbound HTTP, read once.

requests, with `trust_env` (its default, and azure-core's), scans the whole environment for proxy variables and
looks for ~/.netrc on every request: about a tenth of the worker's CPU in a burst of occurrences (a py-spy profile of
`bench.lateness`, docs/performance.md). App settings are environment variables that the Functions host sets before
the worker starts, and it restarts the worker when they change, so the environment is read once at startup instead:

- a CA bundle (`REQUESTS_CA_BUNDLE`, else `CURL_CA_BUNDLE`) is applied to the sessions explicitly;
- only when a proxy variable is set (`HTTPS_PROXY`, `NO_PROXY`, ...) do the sessions keep reading the environment per
  request, which is how requests applies `NO_PROXY` host by host;
- ~/.netrc is never consulted: an Http action sends what the job defines, not credentials stored on the machine,
  and a storage request carries its own authorization.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class OutboundEnvironment:
    proxies: bool  # a proxy variable is set
    ca_bundle: str | None

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> OutboundEnvironment:
        environ = os.environ if environ is None else environ
        proxies = any(name.lower().endswith("_proxy") and value for name, value in environ.items())
        return cls(proxies, environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or None)

    @property
    def verify(self) -> bool | str:
        """requests' `verify`: the CA bundle, else the default one."""
        return self.ca_bundle or True

    def apply(self, session: requests.Session) -> requests.Session:
        session.trust_env = self.proxies
        session.verify = self.verify
        session.auth = _as_defined  # requests looks in ~/.netrc only for a request without auth
        return session


def _as_defined(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """The request's own headers are its authorization (a job's Basic or OAuth header, a storage signature)."""
    return request
