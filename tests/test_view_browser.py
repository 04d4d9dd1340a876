"""`evalkit view` in a real browser: Debian's Chromium driven by Playwright.

One browser for the whole session; each test gets a fresh page. Playwright's
``expect`` waits for the page to reach a state (no sleeps): that is how the
live-update test sees a running eval's progress change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from view_fixtures import GATED_TASK, XSS, write_corrupt_log, write_demo_logs

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for module in ("starlette", "uvicorn", "playwright"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'evalkit[view]' playwright)"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


if (_why := _missing()) is not None:
    if os.environ.get("EVALKIT_REQUIRE_CLI_TOOLS"):
        pytest.fail(f"browser tests are required in CI: {_why}", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402  # after the skip

from evalkit._view._serve import ViewServer  # noqa: E402

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Chromium, launched once for every browser test."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; a script error on it fails the test."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def demo(tmp_path: Path) -> dict[str, Path]:
    directory = tmp_path / "logs"
    directory.mkdir()
    logs = write_demo_logs(directory)
    logs["corrupt"] = write_corrupt_log(directory)
    return logs


@pytest.fixture
def served(demo: dict[str, Path]) -> Iterator[str]:
    """The viewer of the demo logs, polling fast; yields its URL."""
    server = ViewServer(demo["big"].parent, port=0, poll_seconds=0.3).start()
    yield server.url
    server.stop()


def test_logs_page_groups_runs_by_lineage_newest_first(page: Page, served: str,
                                                      demo: dict[str, Path]) -> None:
    """Every log is a row in its lineage's table, with status, counts and metrics."""
    page.goto(served)
    lineages = page.locator("section.lineage")
    expect(lineages).to_have_count(4)
    expect(lineages.first.locator("h2")).to_contain_text("sweep")  # the newest run's lineage
    agent = page.locator("section.lineage", has_text="agent")
    expect(agent.locator("tbody tr")).to_have_count(2)
    failed = page.locator(f'tr[data-log="{demo["failed"].name}"]')
    expect(failed.locator(".status")).to_have_text("error")
    expect(failed.locator(".progress")).to_contain_text("4/6")
    expect(failed).to_contain_text("match/accuracy")
    expect(agent.locator("tbody tr").first).to_contain_text("success")  # the retry is newer
    running = page.locator(f'tr[data-log="{demo["running"].name}"]')
    expect(running.locator(".status")).to_have_text("running")
    expect(running.locator(".progress")).to_contain_text("12/40")
    expect(running.locator(".progress")).to_contain_text("ETA")


def test_sample_transcript_shows_messages_tool_calls_scores_and_events(
        page: Page, served: str, demo: dict[str, Path]) -> None:
    """The sample page shows each message by role, the tool call, score and events."""
    page.goto(f"{served}logs/{demo['failed'].name}/samples/1/1")
    messages = page.locator(".message")
    expect(messages).to_have_count(5)
    expect(page.locator(".message[data-role=system]")).to_contain_text("careful assistant")
    expect(page.locator(".message[data-role=assistant]").first).to_contain_text("calculator(")
    expect(page.locator(".message[data-role=tool] pre")).to_have_text("21")
    expect(page.locator(".score-value")).to_have_text("C")
    expect(page.locator(".event.model")).to_have_count(2)
    expect(page.locator(".event.tool")).to_contain_text('calculator({"expression":"7*3"})')


def test_an_errored_sample_shows_its_traceback_phase_and_history(
        page: Page, served: str, demo: dict[str, Path]) -> None:
    """Errors are shown, never hidden: message, phase, traceback and earlier attempts."""
    page.goto(f"{served}logs/{demo['failed'].name}/samples/3/1")
    error = page.locator(".error-block").first
    expect(error).to_contain_text("sandbox unavailable")
    expect(error).to_contain_text("phase solver")
    expect(error.locator("details pre")).to_contain_text("Traceback (most recent call last)")
    expect(page.get_by_text("error history (1 earlier attempt)")).to_be_visible()
    expect(page.get_by_text("TimeoutError: tool timed out after 30s")).to_be_visible()
    expect(page.locator(".event.info")).to_contain_text('"sandbox": "starting"')
    expect(page.locator(".event.error")).to_contain_text("sandbox unavailable")


def test_hostile_text_in_a_message_is_shown_as_text(page: Page, served: str,
                                                   demo: dict[str, Path]) -> None:
    """An XSS payload in a sample's input is displayed verbatim and never runs."""
    page.goto(f"{served}logs/{demo['failed'].name}/samples/2/1")
    expect(page.locator(".message[data-role=user]")).to_contain_text(XSS)
    expect(page.locator("main img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None


def test_log_page_filters_sorts_and_pages_the_sample_table(
        page: Page, served: str, demo: dict[str, Path]) -> None:
    """Errored-only and a score filter narrow the table; a header click sorts; pages of 100."""
    page.goto(f"{served}logs/{demo['big'].name}")
    rows = page.locator("table.samples tbody tr")
    expect(rows).to_have_count(100)
    expect(page.locator(".pager .range").first).to_have_text("1–100 of 250 · page 1 of 3")
    page.get_by_role("button", name="next ›").click()
    expect(rows.first).to_have_attribute("data-sample", "101/1")
    page.locator("input[name=score]").fill("I")
    page.locator("input[name=score]").press("Enter")
    expect(page.locator(".pager .range")).to_have_text("1–83 of 83 · page 1 of 1")
    page.locator("th[data-sort=id]").click()
    page.locator("th[data-sort=id]").click()
    expect(rows.first).to_have_attribute("data-sample", "249/1")
    page.goto(f"{served}logs/{demo['failed'].name}")
    page.locator("select[name=outcome]").select_option("errored")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("sandbox unavailable")


def test_a_damaged_log_says_what_could_not_be_read(page: Page, served: str,
                                                  demo: dict[str, Path]) -> None:
    """The log page of a corrupt file shows its header and a visible problem."""
    page.goto(f"{served}logs/{demo['corrupt'].name}")
    expect(page.locator("h1")).to_contain_text("damaged")
    expect(page.locator("#samples .problem")).to_contain_text("damaged")


def test_traversal_in_a_page_address_is_refused(page: Page, served: str) -> None:
    """`/logs/..%2f..%2fetc%2fpasswd` is a 404 page without the file's content."""
    response = page.goto(f"{served}logs/..%2f..%2fetc%2fpasswd")
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("No such log")
    assert "root:" not in page.content()


def test_logs_page_follows_a_running_eval_without_reload(page: Page, browser: Any,
                                                        tmp_path: Path) -> None:
    """A real `evalkit eval` shows as running 2/5, then success 5/5, with no reload."""
    log_dir, gate = tmp_path / "live", tmp_path / "gate"
    log_dir.mkdir()
    task_file = tmp_path / "gated.py"
    task_file.write_text(GATED_TASK.replace("GATE", repr(str(gate))))
    server = ViewServer(log_dir, port=0, poll_seconds=0.3).start()
    run = subprocess.Popen([sys.executable, "-m", "evalkit", "eval", str(task_file),
                            "--model", "mockllm/model", "--log-dir", str(log_dir),
                            "--display", "none", "--max-samples", "5"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        page.goto(server.url)
        row = page.locator("table.logs tbody tr")
        expect(row.locator(".status")).to_have_text("running")
        expect(row.locator(".progress")).to_contain_text("2/5")
        page.evaluate("window.__same_document = true")
        gate.touch()
        expect(row.locator(".status")).to_have_text("success")
        expect(row.locator(".progress")).to_have_text("5/5")
        assert page.evaluate("window.__same_document") is True  # updated in place
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        server.stop()
