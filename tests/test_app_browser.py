"""The teaching app in a real browser: Debian's chromium, driven by Playwright.

``p2psim app`` is started as a user would start it, on a free port on localhost. The test waits
for the page, presses step and play, fires a rumour (and a fraud) from the page, and checks that
the day, the platforms' status counts and the charts change, that the page logged no console
error, and that a bad pasted scenario gets the command line's message. It saves screenshots (under
``docs/`` with ``P2PSIM_SCREENSHOTS=docs``, for the README) and prints how many days a second the page plays.

Without a browser the test is skipped with a loud reason: ``.ci/run`` installs chromium
(``apt-get install chromium``) and ``make test`` installs Playwright (the ``app`` extra).
Playwright's own browser download is never used: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Screenshots go to docs/ (the README shows them) only when asked, so that a test run leaves the
# checkout as it was: P2PSIM_SCREENSHOTS=docs pytest tests/test_app_browser.py
DOCS = (ROOT / "docs" if os.environ.get("P2PSIM_SCREENSHOTS") == "docs"
        else Path(tempfile.gettempdir()) / "p2psim_app_screenshots")
DOCS.mkdir(parents=True, exist_ok=True)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1000}
START_TIMEOUT_S = 120
UI_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.slow


def _skip_loudly(reason: str) -> None:
    message = f"BROWSER TEST SKIPPED: {reason}"
    print(f"\n{'!' * 78}\n{message}\n{'!' * 78}", file=sys.stderr)
    pytest.skip(message)


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_loudly("playwright is not installed (`pip install -e '.[app]'`; make test does "
                     "it)")
    if not Path(CHROMIUM).exists():
        _skip_loudly(f"no chromium at {CHROMIUM} (`apt-get install chromium`; .ci/run does it)")
    try:
        import solara  # noqa: F401
    except ImportError:
        _skip_loudly("the app extra is not installed (`pip install -e '.[app]'`)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"p2psim app exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"p2psim app did not answer at {url} within {START_TIMEOUT_S} s:\n"
                f"{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """``p2psim app`` on a free port, in its own process group (stopped with it)."""
    _playwright()
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
                                  stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server, log)
        first_line = log.read_text().splitlines()[:1]
        assert first_line and first_line[0].startswith("p2psim app: ")
        assert f"http://localhost:{port}" in first_line[0]
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the command and the server it started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture()
def page(app_url, tmp_path):
    sync_playwright = _playwright()
    with sync_playwright() as p:
        # A fresh profile every time (Playwright passes it as --user-data-dir).
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS,
            headless=True, viewport=VIEWPORT)
        tab = browser.new_page()
        tab.errors = []
        tab.on("console", lambda m: tab.errors.append(f"console {m.type}: {m.text}")
               if m.type == "error" else None)
        tab.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
        tab.goto(app_url)
        tab.get_by_text("Day 0 of", exact=False).first.wait_for(timeout=UI_TIMEOUT_MS)
        yield tab
        browser.close()


def _day(tab) -> int:
    text = tab.locator(".p2p-day").first.inner_text()
    return int(re.search(r"Day (\d+) of", text).group(1))


def _status(tab) -> str:
    return " | ".join(tab.locator(".p2p-status").all_inner_texts())


def _chart(tab) -> str:
    return tab.locator(".p2p-charts svg").first.inner_html()


def _wait_day(tab, at_least: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        day = _day(tab)
        if day >= at_least:
            return day
        time.sleep(0.1)
    raise AssertionError(f"the page stayed at day {_day(tab)}, expected {at_least}")


def _screenshot(tab, name: str, height: int) -> None:
    """Save ``docs/<name>`` with a viewport tall enough to show the panels below the fold."""
    tab.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    tab.wait_for_timeout(600)
    tab.screenshot(path=str(DOCS / name))
    tab.set_viewport_size(VIEWPORT)


def _button(tab, name: str):
    return tab.get_by_role("button", name=name, exact=True)


def _choose(tab, select_class: str, option: str) -> None:
    tab.locator(f".{select_class}").first.click()
    tab.get_by_role("option", name=option, exact=True).click()


def _play_for(tab, seconds: float) -> tuple[int, int, float]:
    """Press play, wait, press pause: (first day, last day, seconds measured)."""
    start_day = _day(tab)
    _button(tab, "▶").click()
    t0 = time.monotonic()
    time.sleep(seconds)
    _button(tab, "❚❚").click()
    elapsed = time.monotonic() - t0
    tab.wait_for_timeout(400)  # the last frame
    return start_day, _day(tab), elapsed


def test_the_app_steps_plays_fires_a_rumour_and_shows_it(page):
    tab = page
    status0, chart0 = _status(tab), _chart(tab)
    assert "active" in status0 and "failed 0" in status0
    tab.screenshot(path=str(DOCS / "app_start.png"))

    _button(tab, "Step").click()
    _wait_day(tab, 1, timeout_s=20)
    assert _chart(tab) != chart0, "the charts did not change after a step"

    first, last, seconds = _play_for(tab, 4.0)
    rate = (last - first) / seconds
    print(f"\napp play rate (browser, classroom lesson, default intervals): {rate:.1f} days/s "
          f"({last - first} days in {seconds:.1f} s)")
    assert last > first + 5, f"play advanced only from day {first} to day {last}"

    _choose(tab, "p2p-rumour-target", "Huijin")
    tab.locator(".p2p-shock-rumour").click()
    tab.get_by_text(re.compile(r"Fired day \d+: rumour at Huijin")).wait_for(
        timeout=UI_TIMEOUT_MS)
    fired_day = _day(tab)
    _button(tab, "▶").click()
    _wait_day(tab, fired_day + 20)
    _button(tab, "❚❚").click()
    tab.wait_for_timeout(500)
    charts = _chart(tab)
    assert 'class="shock"' in charts, "the rumour is not shaded on the charts"
    assert "Huijin" in tab.locator(".p2p-network").inner_html()
    _screenshot(tab, "app_rumour.png", 1250)

    tab.locator(".p2p-shock-fraud").click()
    tab.get_by_text(re.compile(r"Fired day \d+: fraud at the largest")).wait_for(
        timeout=UI_TIMEOUT_MS)
    _button(tab, "Step").click()
    _wait_day(tab, _day(tab) + 1)
    _button(tab, "Step").click()
    tab.wait_for_timeout(500)
    status = _status(tab)
    assert status != status0, "the status counts did not change"
    assert "absconded 1" in status, status
    assert _chart(tab) != chart0
    assert tab.errors == [], "\n".join(tab.errors)


def test_a_lesson_runs_side_by_side_and_a_bad_paste_gets_the_cli_message(page, tmp_path):
    tab = page
    tab.locator(".v-select").filter(has_text="A bank run in one platform").first.click()
    tab.get_by_role("option", name="What a guarantee fund does").click()
    tab.locator(".p2p-open-lesson").click()
    tab.get_by_text("without protection fund", exact=False).first.wait_for(
        timeout=UI_TIMEOUT_MS)
    # the panels render one after the other: wait for the second before counting them
    tab.locator(".p2p-status").nth(1).wait_for(timeout=UI_TIMEOUT_MS)
    assert len(tab.locator(".p2p-status").all_inner_texts()) == 2
    _play_for(tab, 2.0)
    _choose(tab, "p2p-rumour-target", "Huijin")
    tab.locator(".p2p-shock-rumour").click()
    tab.get_by_text(re.compile(r"Fired day \d+: rumour at Huijin")).wait_for(
        timeout=UI_TIMEOUT_MS)
    fired_day = _day(tab)
    _button(tab, "▶").click()
    _wait_day(tab, fired_day + 25)
    _button(tab, "❚❚").click()
    tab.wait_for_timeout(500)
    _screenshot(tab, "app_side_by_side.png", 1500)

    bad = 'name = "bad"\n[platforms]\ncount = -3\n'
    (tmp_path / "bad.toml").write_text(bad)
    cli = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(tmp_path / "bad.toml")],
                         capture_output=True, text=True, cwd=ROOT)
    expected = cli.stderr.strip().replace(str(tmp_path / "bad.toml"), "pasted text")
    tab.get_by_text("Other scenarios", exact=False).click()
    tab.get_by_label("Or paste a scenario (TOML)").fill(bad)
    tab.locator(".p2p-open-pasted").click()
    shown = tab.locator(".p2p-source-error")
    shown.wait_for(timeout=UI_TIMEOUT_MS)
    assert shown.inner_text().strip() == expected
    assert tab.errors == [], "\n".join(tab.errors)
