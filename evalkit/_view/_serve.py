"""Running the viewer: bind a socket (so a busy port is a clear error), serve with uvicorn."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import uvicorn

from ..errors import UsageError
from ._app import LOOPBACK_NAMES, create_app

ANY_ADDRESS = ("0.0.0.0", "::", "")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r} is not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                         "choose another with --port") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = "127.0.0.1" if host in ANY_ADDRESS else host
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def allowed_hosts(host: str) -> list[str]:
    """Host headers to accept: loopback names, plus ``host``; anything when bound to all."""
    return ["*"] if host in ANY_ADDRESS else [*LOOPBACK_NAMES, host]


class ViewServer:
    """The viewer of ``log_dir`` served on ``host:port``, in this thread or a background one."""

    def __init__(self, log_dir: str | Path, host: str = "127.0.0.1", port: int = 7575,
                 poll_seconds: float = 2.0) -> None:
        self.socket = bind(host, port)
        self.url = url_of(self.socket)
        app = create_app(log_dir, poll_seconds=poll_seconds, allowed_hosts=allowed_hosts(host))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (uvicorn handles the signal and shuts down cleanly)."""
        self._server.run(sockets=[self.socket])

    def start(self) -> ViewServer:
        """Serve from a daemon thread (uvicorn leaves signals alone there); returns once
        the server accepts requests."""
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self.socket]}, daemon=True)
        self._thread.start()
        started = threading.Event()
        while not self._server.started and self._thread.is_alive():
            started.wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.socket.close()
