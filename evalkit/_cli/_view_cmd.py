"""``evalkit view``: serve the web viewer of a log directory until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..log import default_log_dir

if TYPE_CHECKING:
    from .._view._serve import ViewServer

DEFAULT_PORT = 7575


def view_command(args: argparse.Namespace) -> int:
    directory = Path(args.log_dir or default_log_dir())
    if not directory.is_dir():
        raise UsageError(f"log directory {str(directory)!r} does not exist; give a directory "
                         "of logs with --log-dir (default: $EVALKIT_LOG_DIR, else ./logs)")
    server = _server_class()(directory, host=args.host, port=args.port)
    print(f"evalkit view: {directory.resolve()} at {server.url} (Ctrl-C to stop)", flush=True)
    # uvicorn handles Ctrl-C, shuts down cleanly, then re-raises it: a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def watch_while_running(log_dir: str | None) -> None:
    """``--view`` of ``eval``/``eval-retry``: serve the viewer of ``log_dir`` from a
    background thread for as long as this process runs, and print its address."""
    server_class = _server_class()
    directory = Path(log_dir or default_log_dir())
    try:
        server = server_class(directory, port=DEFAULT_PORT)
    except UsageError:  # the usual port is taken (say, by `evalkit view`): any free one
        server = server_class(directory, port=0)
    server.start()
    print(f"evalkit: watch this run at {server.url}", file=sys.stderr, flush=True)


def _server_class() -> type[ViewServer]:
    try:
        from .._view._serve import ViewServer
    except ImportError as exc:
        raise UsageError(f"`evalkit view` needs the viewer's web server ({exc.name} is not "
                         "installed): pip install 'evalkit[view]'") from None
    return ViewServer
