"""`azsched` is an HTTP client of the public API: of scheduler_core it loads only the pure domain and wire.py, and no
azure module (azure-identity is loaded only when an --audience asks for a token)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_azsched_loads_only_the_pure_domain_of_scheduler_core() -> None:
    code = (
        "import sys, pkgutil, importlib, azsched\n"
        "for m in pkgutil.walk_packages(azsched.__path__, 'azsched.'):\n"
        "    if m.name != 'azsched.__main__': importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith(('azure', 'scheduler_core'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)  # noqa: S307 - our own subprocess printing a list literal
    assert not [n for n in loaded if n.startswith("azure")]
    allowed = ("scheduler_core.domain", "scheduler_core.wire")
    assert [n for n in loaded if n != "scheduler_core" and not n.startswith(allowed)] == []


def test_pip_install_puts_azsched_on_the_path_and_azure_deploys_without_it() -> None:
    import importlib
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module, _, name = project["project"]["scripts"]["azsched"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["azsched*", "scheduler_core*"]
    assert "azsched" in (ROOT / ".funcignore").read_text().split()
