"""Command line: ``python -m devhost [--app-dir DIR] [--host H] [--port P] [--azurite DIR | --parity DIR]
[--azurite-ports B,Q,T]``."""

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

from devhost import parity
from devhost.azurite import DEFAULT_PORTS, Azurite, AzuriteError, port_in_use
from devhost.config import ConfigError, apply_local_settings, load_host_config
from devhost.host import serve
from devhost.keyvault import resolve_references
from devhost.loader import load_app
from devhost.logs import configure_logging
from devhost.parity import ParityStack

logger = logging.getLogger("devhost")


STORAGE = "AzureWebJobsStorage"
DEVELOPMENT_STORAGE = "usedevelopmentstorage=true"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description="Run a function_app.py locally.")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="directory of function_app.py and host.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port (default 7071)")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--azurite", type=Path, metavar="DIR", help="start Azurite with its data in DIR")
    modes.add_argument(
        "--parity",
        type=Path,
        metavar="DIR",
        help="run as deployed: the Bicep's app settings, identity-based storage on Azurite over HTTPS with OAuth, "
        "a local managed-identity endpoint; state (certificate, data, keyvault.json) in DIR",
    )
    parser.add_argument(
        "--azurite-ports",
        type=_ports,
        default=None,
        metavar="BLOB,QUEUE,TABLE",
        help="Azurite's ports (default: with --azurite, Azurite's own 10000,10001,10002, which "
        "UseDevelopmentStorage=true means; with --parity, free ones)",
    )
    args = parser.parse_args(argv)
    if args.azurite_ports is None:
        args.azurite_ports = (0, 0, 0) if args.parity is not None else DEFAULT_PORTS
    return args


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


def _print_parity(stack: ParityStack) -> None:
    azurite = stack.azurite
    print(
        f"devhost: parity mode, state in {stack.state}\n"
        f"  Azurite (pid {azurite.pid}) over HTTPS with OAuth: {azurite.service_url('blob')}, "
        f"{azurite.service_url('queue')}, {azurite.service_url('table')}\n"
        f"  certificate {stack.tls.cert} (trusted through REQUESTS_CA_BUNDLE and SSL_CERT_FILE)\n"
        f"  managed identity {stack.identity.client_id} at {stack.identity.url}\n"
        f"  {len(stack.settings)} app settings from infra/modules/functionapp.bicep; no connection string",
        flush=True,
    )


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
    stack: ParityStack | None = None
    try:
        if args.parity is not None:
            # local.settings.json holds a connection string: parity mode takes the deployment's settings instead.
            stack = parity.start(args.parity.resolve(), app_dir, args.azurite_ports)
            _print_parity(stack)
        else:
            apply_local_settings(app_dir)
        config = load_host_config(app_dir)
        if args.azurite is not None:
            azurite = _start_azurite(args.azurite.resolve(), args.azurite_ports)
        resolve_references()
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
        if stack is not None:
            stack.stop()
            print("devhost: parity stack stopped", flush=True)
        if azurite is not None:
            azurite.stop()
            print("devhost: Azurite stopped", flush=True)
    print("devhost: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
