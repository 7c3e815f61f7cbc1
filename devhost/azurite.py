"""Start and stop the Azurite storage emulator for development and tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

ACCOUNT_NAME = "devstoreaccount1"
# The well-known development storage key, published in Azurite's and Azure's documentation.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEFAULT_PORTS = (10000, 10001, 10002)
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class AzuriteError(RuntimeError):
    """Azurite could not be started."""


def endpoint(port: int, *, https: bool = False) -> str:
    """The URL of one Azurite service for devstoreaccount1 on 127.0.0.1, without a trailing slash."""
    return f"{'https' if https else 'http'}://127.0.0.1:{port}/{ACCOUNT_NAME}"


def connection_string(ports: tuple[int, int, int]) -> str:
    """The explicit devstoreaccount1 connection string for Azurite on 127.0.0.1 at (blob, queue, table) ports."""
    blob, queue, table = ports
    base = "http://127.0.0.1"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={base}:{blob}/{ACCOUNT_NAME};QueueEndpoint={base}:{queue}/{ACCOUNT_NAME};"
        f"TableEndpoint={base}:{table}/{ACCOUNT_NAME};"
    )


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Returns count distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        # All bound at once, so the kernel cannot hand out the same port twice.
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int) -> bool:
    """Tells whether something already listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Azurite:
    """A running Azurite process bound to 127.0.0.1; also a context manager that stops it.

    Attributes:
        blob_port: Port of the blob service.
        queue_port: Port of the queue service.
        table_port: Port of the table service.
        connection_string: Explicit devstoreaccount1 connection string with the three endpoints (plain HTTP only).
        tls: The certificate and key it serves HTTPS with, or None for HTTP.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        stderr_path: Path,
        ports: tuple[int, int, int],
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self._process = process
        self._stderr_path = stderr_path
        self.blob_port, self.queue_port, self.table_port = ports
        self.tls = tls
        self.connection_string = connection_string(ports)

    def service_url(self, service: str) -> str:
        """The ``blob``, ``queue`` or ``table`` endpoint of devstoreaccount1 (https with ``tls``), no trailing slash."""
        port = {"blob": self.blob_port, "queue": self.queue_port, "table": self.table_port}[service]
        return endpoint(port, https=self.tls is not None)

    @property
    def pid(self) -> int:
        """The process id of Azurite (also its process group id)."""
        return self._process.pid

    @classmethod
    def start(
        cls,
        *,
        location: str | None = None,
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
        repo_root: Path | None = None,
        tls: tuple[Path, Path] | None = None,
        oauth: bool = False,
    ) -> Azurite:
        """Starts Azurite and waits until its table endpoint answers.

        Args:
            location: Directory for persistent data; None keeps everything in memory.
            blob_port: Blob port; 0 picks a free loopback port.
            queue_port: Queue port; 0 picks a free loopback port.
            table_port: Table port; 0 picks a free loopback port.
            repo_root: Directory holding ``node_modules/.bin/azurite``; defaults to the parent of devhost/.
            tls: (certificate, key) PEM files: serve HTTPS (``--cert``, ``--key``).
            oauth: Accept bearer tokens (``--oauth basic``; Azurite allows them over HTTPS only).

        Returns:
            The running emulator.

        Raises:
            AzuriteError: The binary is missing, or Azurite died or did not answer in time.
        """
        root = repo_root or Path(__file__).resolve().parent.parent
        binary = root / "node_modules" / ".bin" / "azurite"
        if not binary.exists():
            raise AzuriteError(f"Azurite not found at {binary}; run `npm ci` in {root}")
        spare = iter(free_ports(3))
        ports = (blob_port or next(spare), queue_port or next(spare), table_port or next(spare))
        args = [str(binary), "--disableTelemetry", "--skipApiVersionCheck", "--loose"]
        args += ["--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1"]
        args += ["--blobPort", str(ports[0]), "--queuePort", str(ports[1]), "--tablePort", str(ports[2])]
        if tls is not None:
            args += ["--cert", str(tls[0]), "--key", str(tls[1])]
        if oauth:
            if tls is None:
                raise AzuriteError("Azurite accepts OAuth tokens over HTTPS only: give a certificate")
            args += ["--oauth", "basic"]
        if location is None:
            args.append("--inMemoryPersistence")
        else:
            Path(location).mkdir(parents=True, exist_ok=True)
            args += ["--location", str(location)]
        stderr_fd, stderr_name = tempfile.mkstemp(prefix="azurite-", suffix=".log")
        # A process group of its own, so stop() reaches node and anything it spawned, and Ctrl-C in a terminal
        # reaches only our process, which then stops Azurite in order.
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_fd, start_new_session=True
        )
        os.close(stderr_fd)
        azurite = cls(process, Path(stderr_name), ports, tls)
        try:
            azurite._wait_ready()
        except BaseException:
            azurite.stop()
            raise
        return azurite

    def _wait_ready(self) -> None:
        url = f"{self.service_url('table')}/Tables"
        context = ssl.create_default_context(cafile=str(self.tls[0])) if self.tls else None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AzuriteError(f"Azurite exited with code {self._process.returncode}: {self._stderr()}")
            try:
                urllib.request.urlopen(url, timeout=1, context=context).close()
                return
            except urllib.error.HTTPError:
                return  # Any HTTP answer (403 without a signature) means the service is up.
            except OSError:
                time.sleep(0.1)
        raise AzuriteError(f"Azurite did not answer on {url} within {READY_TIMEOUT_SECONDS:.0f} s: {self._stderr()}")

    def _stderr(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace").strip() or "(no stderr)"
        except OSError:
            return "(no stderr)"

    def stop(self) -> None:
        """Terminates the Azurite process group, waits, and kills it if it does not exit in time."""
        if self._process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait()
        self._stderr_path.unlink(missing_ok=True)

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self._process.pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Azurite:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
