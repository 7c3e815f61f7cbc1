"""The app settings the deployment gives the function app, read from its Bicep and evaluated with local values.

``infra/modules/functionapp.bicep`` declares every app setting in one object variable (``appSettings``), each a
literal, a parameter, or a string interpolating parameters. This module parses the file with pycep-parser (as
tests/unit/test_infra.py does: no Bicep compiler runs here) and evaluates those three forms; anything else (a
function call, a reference to a resource) stops parity mode with an error naming the setting, rather than being
guessed. pycep renders an identifier and a string literal alike, so a value that is exactly a parameter's name is
taken as that parameter.

Of functions, ``join(<array parameter>, '<delimiter>')`` is evaluated (a list setting such as the managed-identity
audiences).

Parameters get their local value from the mapping the caller passes; one missing there takes its Bicep default, and
one named ``...ClientId`` (an identity's client id) the value ``client_id_for(name)`` gives. A parameter mapped to
None has no local counterpart (Application Insights): settings that use it are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devhost.config import ConfigError

FUNCTION_APP_BICEP = Path("infra") / "modules" / "functionapp.bicep"
SETTINGS_VARIABLE = "appSettings"
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def parse_template(path: Path) -> dict[str, Any]:
    """The template as pycep-parser returns it.

    Raises:
        ConfigError: The file is missing, pycep-parser is not installed, or the file does not parse.
    """
    try:
        from pycep import BicepParser
    except ImportError as exc:
        raise ConfigError("parity mode reads the Bicep with pycep-parser: install requirements-dev.txt") from exc
    if not path.exists():
        raise ConfigError(f"{path} not found: parity mode takes the app settings from it")
    try:
        return dict(BicepParser().parse(file_path=path))
    except Exception as exc:  # lark raises several unrelated types for syntax errors
        raise ConfigError(f"{path} does not parse: {exc}") from exc


def declared_settings(template: Mapping[str, Any]) -> dict[str, Any]:
    """The ``appSettings`` variable as parsed (values not evaluated).

    Raises:
        ConfigError: The template has no such object variable.
    """
    value = (template.get("variables", {}).get(SETTINGS_VARIABLE) or {}).get("value")
    if not isinstance(value, dict):
        raise ConfigError(f"the Bicep has no object variable {SETTINGS_VARIABLE!r}")
    return value


def evaluate_settings(
    template: Mapping[str, Any],
    parameters: Mapping[str, str | list[str] | None],
    *,
    client_id_for: Callable[[str], str],
) -> dict[str, str]:
    """Every app setting of the template with its parameters replaced by local values.

    Args:
        template: A parsed template declaring ``appSettings``.
        parameters: Local values of parameters (None: no local counterpart, drop the settings that use it).
        client_id_for: The local client id for a parameter named ``...ClientId`` that is not in parameters.

    Raises:
        ConfigError: A setting is not a literal, a parameter or an interpolation of parameters, or uses a
            parameter with neither a local value nor a default.
    """
    declared = template.get("parameters", {})

    def value_of(param: str, setting: str) -> Any:
        if param in parameters:
            return parameters[param]
        default = declared[param].get("default")
        if default is not None:
            return default
        if param.endswith("ClientId"):
            return client_id_for(param)
        raise ConfigError(
            f"app setting {setting}: parameter {param!r} has no local value: give it one in "
            "devhost/parity.py local_parameters() (None if it has no local counterpart)"
        )

    settings: dict[str, str] = {}
    for name, raw in declared_settings(template).items():
        function = raw.get("function") if isinstance(raw, dict) else None
        if function and function.get("type") == "join":
            arguments = function.get("parameters") or {}
            array = arguments.get("input_array")
            items = value_of(array, name) if isinstance(array, str) and array in declared else None
            if not isinstance(items, list):
                raise ConfigError(f"app setting {name}: parity mode joins array parameters only, not {raw!r}")
            value: str | None = str(arguments.get("delimiter", "")).join(str(item) for item in items)
        elif not isinstance(raw, str):
            raise ConfigError(f"app setting {name}: parity mode cannot evaluate {raw!r}")
        elif raw in declared:
            single = value_of(raw, name)
            value = None if single is None else str(single)
        else:
            values: dict[str, str | None] = {}
            for expression in _INTERPOLATION.findall(raw):
                if expression not in declared:
                    raise ConfigError(f"app setting {name}: parity mode cannot evaluate ${{{expression}}}")
                found = value_of(expression, name)
                values[expression] = None if found is None else str(found)
            value = _interpolate(raw, values)
        if value is not None:
            settings[str(name)] = value
    return settings


def _interpolate(text: str, values: Mapping[str, str | None]) -> str | None:
    """text with each ``${param}`` replaced, or None if one of them has no local value."""
    if any(value is None for value in values.values()):
        return None
    return _INTERPOLATION.sub(lambda match: str(values[match.group(1)]), text)
