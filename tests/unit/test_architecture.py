"""Imports point inward: the domain is pure, and only adapters (and the composition root) touch azure.*."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "scheduler_core"


def test_importing_the_domain_loads_no_azure_module() -> None:
    code = (
        "import sys, pkgutil, importlib, scheduler_core.domain as d\n"
        "for m in pkgutil.iter_modules(d.__path__): importlib.import_module(f'scheduler_core.domain.{m.name}')\n"
        "print(sorted(n for n in sys.modules if n.startswith('azure')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_domain_reads_no_environment_and_no_clock() -> None:
    for path in (CORE / "domain").glob("*.py"):
        text = path.read_text().split('"""', 2)[-1]  # past the module docstring, which names what is banned
        assert "os.environ" not in text and "datetime.now(" not in text, path.name


def test_only_adapters_and_the_wiring_import_azure() -> None:
    allowed = {CORE / "adapters", CORE / "bootstrap.py"}
    for path in CORE.rglob("*.py"):
        if any(path == a or a in path.parents for a in allowed):
            continue
        assert "import azure" not in path.read_text() and "from azure" not in path.read_text(), path.relative_to(ROOT)


def test_only_adapters_import_opentelemetry() -> None:
    # The service reports through the Telemetry port (service/telemetry.py); only adapters/telemetry.py knows
    # OpenTelemetry, so telemetry off costs the hot path nothing but a no-op call.
    for path in CORE.rglob("*.py"):
        if CORE / "adapters" in path.parents:
            continue
        text = path.read_text()
        assert "import opentelemetry" not in text and "from opentelemetry" not in text, path.relative_to(ROOT)
