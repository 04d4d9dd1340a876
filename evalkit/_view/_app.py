"""The viewer's web app: three pages (one static shell) and a small JSON API.

Pages: ``/`` (logs), ``/logs/<name>`` (one log), ``/logs/<name>/samples/<id>/<epoch>``
(one sample). Each returns the same HTML shell; its script reads the JSON API:

- ``GET /api/logs``: a row per log in the directory (subdirectories included);
- ``GET /api/logs/<name>``: header, results, stats and error of one log;
- ``GET /api/logs/<name>/samples?outcome=&score=&sort=&desc=&offset=&limit=``;
- ``GET /api/logs/<name>/samples/<id>/<epoch>``: one sample as written.

Log names are relative paths ending in ``.jsonl.zst``; every one passes
through :meth:`LogDirectory.resolve`, so nothing outside the directory is read.
The handlers are plain functions: Starlette runs them in its thread pool, so
a slow read never blocks the event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..log._listing import LOG_SUFFIX
from ._detail import detail_of
from ._directory import LogDirectory
from ._overview import OverviewCache
from ._samples import OUTCOMES, PAGE_SIZE, SORT_COLUMNS, Query, TableCache, find_sample_line

STATIC = Path(__file__).parent / "_static"
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
# No inline script or style, nothing from elsewhere: an injected tag can do nothing.
_SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}

_MISSING_PAGE = ("<!doctype html><title>evalkit view: not found</title>"
                 "<p>No such log in this directory. <a href=\"/\">All logs</a></p>")


class _SecurityHeaders:
    """Adds :data:`_SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Viewer:
    """The state behind the routes: the directory and its caches."""

    def __init__(self, log_dir: str | Path, poll_seconds: float) -> None:
        self.directory = LogDirectory(log_dir)
        self.poll_seconds = poll_seconds
        self.overviews = OverviewCache()
        self.tables = TableCache()

    def config(self, request: Request) -> Response:
        return JSONResponse({"log_dir": str(self.directory.root),
                             "poll_seconds": self.poll_seconds, "page_size": PAGE_SIZE})

    def logs(self, request: Request) -> Response:
        rows = []
        names = self.directory.names()
        for name in names:
            path = self.directory.resolve(name)
            if path is not None:  # gone since it was listed: skip it
                rows.append(self.overviews.row(name, path).as_dict())
        self.overviews.forget_except(set(names))
        return JSONResponse({"log_dir": str(self.directory.root), "logs": rows})

    def page(self, request: Request) -> Response:
        if "rest" in request.path_params and self._split(request, "/logs/") is None:
            return HTMLResponse(_MISSING_PAGE, status_code=404)
        return FileResponse(STATIC / "index.html")

    def api_log(self, request: Request) -> Response:
        split = self._split(request, "/api/logs/")
        if split is None:
            return _not_found("no such log in this directory")
        name, path, tail = split
        if not tail:
            return JSONResponse(detail_of(name, path))
        if tail == ["samples"]:
            return self._samples(path, request)
        if len(tail) == 3 and tail[0] == "samples" and tail[2].isdigit():
            return self._sample(path, tail[1], int(tail[2]))
        return _not_found("unknown address")

    def _samples(self, path: Path, request: Request) -> Response:
        params = request.query_params
        try:
            query = Query(
                outcome=params.get("outcome") or "all", score=params.get("score") or None,
                sort=params.get("sort") or None, descending=params.get("desc") == "1",
                offset=max(0, int(params.get("offset") or 0)),
                limit=min(1000, max(1, int(params.get("limit") or PAGE_SIZE))),
            )
        except ValueError:
            return JSONResponse({"error": "offset and limit must be whole numbers"}, 400)
        if query.outcome not in OUTCOMES or (query.sort and query.sort not in SORT_COLUMNS):
            return JSONResponse({"error": f"outcome is one of {', '.join(OUTCOMES)}; sort is "
                                          f"one of {', '.join(SORT_COLUMNS)}"}, 400)
        return JSONResponse(self.tables.page(path, query).as_dict())

    def _sample(self, path: Path, sample_id: str, epoch: int) -> Response:
        line, problem = find_sample_line(path, sample_id, epoch)
        if line is None:
            why = f": {problem}" if problem else ""
            return _not_found(f"no sample {sample_id!r} in epoch {epoch} in this log{why}")
        try:
            json.loads(line)
        except ValueError:
            return JSONResponse({"error": "the sample's record is not valid JSON"}, 500)
        return Response(line, media_type="application/json")

    def _split(self, request: Request, prefix: str) -> tuple[str, Path, list[str]] | None:
        """The address after ``prefix`` as a log's name, its path and the parts after it.

        Read from the raw path, one segment at a time, so a sample id holding a
        ``/`` (sent as ``%2F``) stays one part. Names are ``/``-separated paths
        ending in ``.jsonl.zst``; whatever they decode to, ``resolve`` decides.
        """
        raw = request.scope.get("raw_path") or request.url.path.encode()
        segments = [unquote(part) for part in raw.decode("latin-1")[len(prefix):].split("/")]
        for end, segment in enumerate(segments):
            if segment.endswith(LOG_SUFFIX):
                name = "/".join(segments[:end + 1])
                path = self.directory.resolve(name)
                if path is None:
                    return None
                return name, path, [part for part in segments[end + 1:] if part]
        return None


def _not_found(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=404)


def create_app(log_dir: str | Path, *, poll_seconds: float = 2.0,
               allowed_hosts: list[str] | None = None) -> Starlette:
    """The viewer for ``log_dir``.

    ``allowed_hosts`` are the names the browser may use in ``Host``; the default
    (loopback names only) stops a web page from reaching the viewer through DNS
    rebinding. ``["*"]`` allows any, for ``--host 0.0.0.0``.
    """
    viewer = Viewer(log_dir, poll_seconds)
    routes = [
        Route("/", viewer.page),
        Route("/logs/{rest:path}", viewer.page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/config", viewer.config),
        Route("/api/logs", viewer.logs),
        Route("/api/logs/{rest:path}", viewer.api_log),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_NAMES),
        Middleware(_SecurityHeaders),
    ]
    return Starlette(routes=routes, middleware=middleware)
