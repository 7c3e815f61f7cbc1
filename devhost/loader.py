"""Import function_app.py and list its functions once, as the Python worker does at startup."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.functions.decorators.function_app import FunctionRegister

from devhost.config import ConfigError

SUPPORTED_TRIGGERS = ("httpTrigger", "timerTrigger", "queueTrigger")


@dataclass(frozen=True)
class Function:
    """One function of the app, as devhost invokes it.

    Attributes:
        name: The function name the host reports.
        trigger: The trigger binding object from ``get_trigger()``.
        user_function: The decorated Python callable.
        trigger_arg: Parameter name that receives the trigger value.
        wants_context: Whether the callable has a ``context`` parameter.
        is_async: Whether the callable is a coroutine function (awaited on the event loop).
        directory: The function directory reported in the invocation context (the app directory).
    """

    name: str
    trigger: Any
    user_function: Callable[..., Any]
    trigger_arg: str
    wants_context: bool
    is_async: bool
    directory: str

    @property
    def trigger_type(self) -> str:
        """The binding type of the trigger, e.g. ``httpTrigger``."""
        return str(self.trigger.type)


def _import_module(app_dir: Path) -> Any:
    path = app_dir / "function_app.py"
    if not path.exists():
        raise ConfigError(f"{path} not found")
    # The worker runs with the app directory on sys.path so the app's own packages import.
    sys.path.insert(0, str(app_dir))
    spec = importlib.util.spec_from_file_location("function_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    spec.loader.exec_module(module)
    return module


def _find_app(module: Any) -> FunctionRegister:
    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    if len(apps) != 1:
        raise ConfigError(f"function_app.py must define exactly one FunctionApp, found {len(apps)}")
    return apps[0]


def _describe(function: Any, app_dir: Path) -> Function:
    name = function.get_function_name()
    trigger = function.get_trigger()
    if trigger is None or trigger.type not in SUPPORTED_TRIGGERS:
        kind = None if trigger is None else trigger.type
        raise ConfigError(f"function {name!r}: trigger {kind!r} is not supported by devhost")
    for binding in function.get_bindings():
        if binding is not trigger and not (binding.type == "http" and binding.name == "$return"):
            raise ConfigError(f"function {name!r}: binding {binding.type!r} is not supported by devhost")
    user_function = function.get_user_function()
    parameters = inspect.signature(user_function).parameters
    return Function(
        name=name,
        trigger=trigger,
        user_function=user_function,
        trigger_arg=trigger.name,
        wants_context="context" in parameters,
        is_async=inspect.iscoroutinefunction(user_function),
        directory=str(app_dir),
    )


@dataclass(frozen=True)
class LoadedApp:
    """The app object and its functions, listed once.

    Attributes:
        app: The ``func.FunctionApp`` (or ``AsgiFunctionApp``) found in function_app.py.
        functions: Its functions; ``get_functions()`` is not called again, since a second call fails.
    """

    app: FunctionRegister
    functions: list[Function]


def load_app(app_dir: Path) -> LoadedApp:
    """Imports ``function_app.py`` from app_dir and describes each registered function.

    Raises:
        ConfigError: No single app object, or a trigger or binding devhost does not implement.
    """
    app_dir = app_dir.resolve()
    app = _find_app(_import_module(app_dir))
    return LoadedApp(app=app, functions=[_describe(function, app_dir) for function in app.get_functions()])
