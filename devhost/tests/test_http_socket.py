"""The HTTP socket devhost listens on: connections it accepts send small writes at once (no Nagle delay)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from devhost.host import _bind


def test_connections_accepted_on_the_http_socket_have_nagle_off() -> None:
    # With Nagle on, a response's header and body writes wait for the client's delayed ACK: 40 ms per request.
    async def accepted_nodelay() -> int:
        sock = _bind("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            try:
                return await asyncio.wait_for(seen, timeout=10)
            finally:
                writer.close()

    # A thread of its own: the suite's browser tests keep an event loop running on the main thread.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, accepted_nodelay()).result(timeout=30) != 0
