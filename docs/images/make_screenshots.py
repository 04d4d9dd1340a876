"""Screenshots of `evalkit view` for docs/viewing-logs.md: logs page, log page, sample page.

Usage: python docs/images/make_screenshots.py

Writes the test suite's demo logs (tests/view_fixtures.py) to a temporary
directory, serves them, and has Debian's Chromium (/usr/bin/chromium, through
Playwright's Python package) save one PNG per page next to this script.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402  # after the path above
from view_fixtures import write_demo_logs  # noqa: E402

from evalkit._view._serve import ViewServer  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    with tempfile.TemporaryDirectory() as temp, sync_playwright() as playwright:
        directory = Path(temp) / "logs"
        logs = write_demo_logs(directory)
        server = ViewServer(directory, port=0).start()
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        shots = [
            ("logs-page.png", "", "section.lineage"),
            ("log-page.png", f"logs/{logs['failed'].name}", "table.samples tbody tr"),
            ("sample-page.png", f"logs/{logs['failed'].name}/samples/4/1", ".event"),
        ]
        for file_name, address, ready in shots:
            page.goto(server.url + address)
            page.locator(ready).first.wait_for()
            page.screenshot(path=str(HERE / file_name), full_page=True)
            print(f"wrote {HERE / file_name}")
        browser.close()
        server.stop()


if __name__ == "__main__":
    main()
