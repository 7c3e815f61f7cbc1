"""Command line: ``python -m devhost [--app-dir DIR] [--host H] [--port P] [--azurite DIR [--azurite-ports B,Q,T]]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from azure.core.exceptions import AzureError

from devhost.azurite import DEFAULT_PORTS, Azurite, AzuriteError, port_in_use
from devhost.config import ConfigError, apply_local_settings, load_host_config
from devhost.host import serve
from devhost.loader import load_app
from devhost.logs import configure_logging

logger = logging.getLogger("devhost")


STORAGE = "AzureWebJobsStorage"
DEVELOPMENT_STORAGE = "usedevelopmentstorage=true"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description="Run a function_app.py locally.")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="directory of function_app.py and host.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port (default 7071)")
    parser.add_argument("--azurite", type=Path, metavar="DIR", help="start Azurite with its data in DIR")
    parser.add_argument(
        "--azurite-ports",
        type=_ports,
        default=DEFAULT_PORTS,
        metavar="BLOB,QUEUE,TABLE",
        help="ports for --azurite (default: Azurite's own, 10000,10001,10002, which UseDevelopmentStorage=true means)",
    )
    return parser.parse_args(argv)


def _ports(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("give three ports: BLOB,QUEUE,TABLE")
    return parts[0], parts[1], parts[2]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _start_azurite(location: Path, ports: tuple[int, int, int]) -> Azurite:
    busy = [port for port in ports if port_in_use(port)]
    if busy:
        raise AzuriteError(f"cannot start Azurite: port(s) {busy} already in use (is another Azurite running?)")
    blob, queue, table = ports
    azurite = Azurite.start(location=str(location), blob_port=blob, queue_port=queue, table_port=table)
    print(f"devhost: Azurite (pid {azurite.pid}) on ports {blob}/{queue}/{table}, data in {location}", flush=True)
    if ports != DEFAULT_PORTS and os.environ.get(STORAGE, "").replace(" ", "").lower() in ("", DEVELOPMENT_STORAGE):
        # UseDevelopmentStorage=true means the default ports; point the host's storage at the ones chosen.
        os.environ[STORAGE] = azurite.connection_string
    return azurite


def main(argv: list[str] | None = None) -> int:
    """Runs devhost until SIGINT or SIGTERM.

    Returns:
        0 after a clean stop, 1 when the app, its configuration or its storage cannot start.
    """
    # Until the event loop takes over the signals, SIGTERM must still unwind through the finally below.
    signal.signal(signal.SIGTERM, _interrupt)
    args = _parse_args(argv)
    configure_logging()
    app_dir = args.app_dir.resolve()
    azurite: Azurite | None = None
    try:
        apply_local_settings(app_dir)
        config = load_host_config(app_dir)
        if args.azurite is not None:
            azurite = _start_azurite(args.azurite.resolve(), args.azurite_ports)
        # The worker runs in the app directory with it on sys.path.
        os.chdir(app_dir)
        loaded = load_app(app_dir)
        asyncio.run(serve(loaded, config, args.host, args.port))
    except KeyboardInterrupt:
        pass
    except (ConfigError, AzuriteError, OSError, AzureError) as exc:
        logger.error("cannot start: %s", exc)
        return 1
    finally:
        if azurite is not None:
            azurite.stop()
            print("devhost: Azurite stopped", flush=True)
    print("devhost: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
