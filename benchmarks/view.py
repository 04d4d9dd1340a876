"""How fast `evalkit view` opens a big log's page and one of its samples.

Usage: python benchmarks/view.py [--samples 100000] [--repeat 7] [--no-browser]

Writes one finished log of ``--samples`` realistic samples (copies of a real
mock-model sample, each ~1.3 kB of JSON) and serves it with the viewer on
127.0.0.1, then times over HTTP, as the page's script asks:

- log page: the header request plus the first page of the sample table;
- last page: the table's last page in file order (every line decompressed);
- sample (first / middle / last): one sample by id and epoch;
- sorted page, cold then warm: the first sort builds the table's rows;

and, when Playwright and /usr/bin/chromium are there, the time for a browser
to open the log page and the sample page until their content shows. Prints
medians of ``--repeat`` runs, and the server process's peak RSS. The goal is
under one second for the log page and the sample page.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from log_ls import template_log, timings

from evalkit.log import EvalFooter, LogWriter

CHROMIUM = "/usr/bin/chromium"


def write_big_log(directory: Path, count: int) -> Path:
    """A finished log of ``count`` samples, all copies of one real sample."""
    template = template_log(directory / "template", 20)
    assert template.samples is not None and template.results is not None
    sample = template.samples[0]
    spec = template.eval.model_copy(update={"dataset": template.eval.dataset.model_copy(
        update={"samples": count, "sample_ids": list(range(1, count + 1))})})
    path = directory / "logs" / "2026-01-01T00-00-00_big_0000000000000000.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(spec)
        for number in range(1, count + 1):
            line = sample.model_copy(update={"id": number}).model_dump_json(exclude_none=True)
            writer.write_sample_lines([line.encode() + b"\n"])
        writer.write_footer(EvalFooter(status="success", results=template.results,
                                       stats=template.stats or EvalFooter(status="success").stats))
    return path


def fetch(url: str, *paths: str) -> Callable[[], None]:
    address = urlsplit(url)

    def run() -> None:
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=120)
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
        connection.close()

    return run


def browser_cases(url: str, name: str, count: int) -> list[tuple[str, Callable[[], None]]]:
    """Open the pages in Chromium until their content shows; [] without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    if shutil.which(CHROMIUM) is None:
        return []
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])
    page = browser.new_page()

    def open_log() -> None:
        page.goto(f"{url}logs/{name}")
        page.locator("table.samples tbody tr").nth(99).wait_for()

    def open_sample() -> None:
        page.goto(f"{url}logs/{name}/samples/{count}/1")
        page.locator(".message").first.wait_for()

    return [("browser: log page", open_log), ("browser: sample page (last)", open_sample)]


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    from evalkit._view._serve import ViewServer

    with tempfile.TemporaryDirectory() as temp:
        with contextlib.redirect_stdout(None):
            path = write_big_log(Path(temp), args.samples)
        before = rss_mb()
        server = ViewServer(path.parent, port=0).start()
        api, n = f"/api/logs/{path.name}", args.samples
        cases = [
            ("log page (header + first 100 rows)", fetch(server.url, api, f"{api}/samples")),
            ("last page in file order", fetch(server.url, f"{api}/samples?offset={n - 100}")),
            ("sample page (first)", fetch(server.url, f"{api}/samples/1/1")),
            ("sample page (middle)", fetch(server.url, f"{api}/samples/{n // 2}/1")),
            ("sample page (last)", fetch(server.url, f"{api}/samples/{n}/1")),
        ]
        sorted_page = fetch(server.url, f"{api}/samples?sort=id&desc=1")
        if not args.no_browser:
            cases += browser_cases(server.url, path.name, n)
        size = path.stat().st_size
        print(f"one log of {n} samples, {size / 1e6:.1f} MB; median of {args.repeat} runs")
        print(f"{'request':<40}{'median s':>10}{'min s':>10}{'max s':>10}")
        rows = [(name, timings(run, args.repeat)) for name, run in cases]
        rows.insert(len(rows) - (2 if len(cases) > 5 else 0),
                    ("sorted page, cold (builds the rows)", timings(sorted_page, 1, warm=False)))
        rows.insert(len(rows) - (2 if len(cases) > 5 else 0),
                    ("sorted page, warm", timings(sorted_page, args.repeat)))
        for name, values in rows:
            print(f"{name:<40}{statistics.median(values):>10.3f}{min(values):>10.3f}"
                  f"{max(values):>10.3f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"RSS: {before:.0f} MB before serving, {rss_mb():.0f} MB after every request "
              f"above (the sorted table's rows included); peak {peak:.0f} MB")
        server.stop()


if __name__ == "__main__":
    main()
