"""``evalkit view``: serve the web viewer of a log directory until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from ..errors import UsageError
from ..log import default_log_dir


def view_command(args: argparse.Namespace) -> int:
    directory = Path(args.log_dir or default_log_dir())
    if not directory.is_dir():
        raise UsageError(f"log directory {str(directory)!r} does not exist; give a directory "
                         "of logs with --log-dir (default: $EVALKIT_LOG_DIR, else ./logs)")
    try:
        from .._view._serve import ViewServer
    except ImportError as exc:
        raise UsageError(f"`evalkit view` needs the viewer's web server ({exc.name} is not "
                         "installed): pip install 'evalkit[view]'") from None
    server = ViewServer(directory, host=args.host, port=args.port)
    print(f"evalkit view: {directory.resolve()} at {server.url} (Ctrl-C to stop)", flush=True)
    # uvicorn handles Ctrl-C, shuts down cleanly, then re-raises it: a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
