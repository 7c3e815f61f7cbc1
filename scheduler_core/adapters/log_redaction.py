"""Log records of the HTTP client that would quote a URL's query: its values are replaced before any handler sees them.

urllib3 logs every request's path and query at DEBUG (and a retried one at WARNING). A StorageQueue action's URL
carries the job's sasToken, and a storage connection string with a SharedAccessSignature puts the operator's SAS on
every storage call; a target's own URL may hold a key (`?code=`). azure-core's logging policy already writes its
URLs with `REDACTED` values; these loggers get the same treatment.
"""

from __future__ import annotations

import logging
import re

_HTTP_CLIENT_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s'\"]+=)[^&#\s'\"]*")


class _QueryValuesHidden(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_hidden(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _hidden(text: str) -> str:
    path, mark, query = text.partition("?")
    return path + mark + _QUERY_VALUE.sub(r"\1REDACTED", "?" + query)[1:] if mark else text


_FILTER = _QueryValuesHidden()


def hide_query_values_in_http_client_logs() -> None:
    """Install the filter on urllib3's loggers (idempotent: `addFilter` adds a filter once)."""
    for name in _HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
