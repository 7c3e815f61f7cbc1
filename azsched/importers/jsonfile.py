"""JSON files as exports and templates are saved: UTF-8 with or without a BOM, UTF-16 or UTF-32 (what Windows
PowerShell's `>` and `Out-File` write), any line endings, and the `//` and `/* */` comments and trailing commas that
ARM templates and parameter files may hold (Azure accepts them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from azsched.importers.model import ReadError

# A string (kept), a comment (blanked) or a comma that only closes a list or object (blanked). Blanking keeps every
# other character where it was, so the line and column of a syntax error are the file's own.
_LENIENT = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?(?:\*/|\Z)|,(?=(?:\s|//[^\n]*|/\*.*?\*/)*[}\]])', re.DOTALL)


def _blank(match: re.Match[str]) -> str:
    text = match[0]
    return text if text.startswith('"') else re.sub(r"[^\n]", " ", text)


def loads(data: bytes) -> Any:
    """The JSON value of a file's bytes.

    Raises:
        UnicodeDecodeError: not text in a UTF encoding.
        json.JSONDecodeError: not JSON, even with comments and trailing commas allowed.
    """
    text = data.decode(json.detect_encoding(data))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(_LENIENT.sub(_blank, text))


def load(path: Path) -> Any:
    """The JSON value of a file.

    Raises:
        ReadError: the file cannot be read, is not UTF text or not JSON; the message names the file and, for JSON,
            the line and column (never the file's content, which may hold secrets).
    """
    try:
        return loads(path.read_bytes())
    except OSError as exc:
        raise ReadError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not UTF-8 or UTF-16 text (byte {exc.object[exc.start]:#04x} at offset "
                         f"{exc.start}); save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ReadError(f"{path}: not JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None
