"""The web view served for a test: uvicorn on a free loopback port in a thread, and a
headless Chromium (Debian's chromium and chromium-driver) driven by Selenium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from selenium import webdriver
from starlette.applications import Starlette

from medlofte_bot.services.context import ServiceContext
from medlofte_bot.settings import Settings
from medlofte_bot.web.pages import WebDeps, routes

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# the machine's network is closed: nothing of Chromium's own may reach out or wait on it
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")
PHONE, DESKTOP = (390, 844), (1280, 900)
SHOTS = Path(__file__).parents[1] / "build" / "screenshots"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None: they can). ``make test`` installs
    Chromium and its driver first (as root, as CI runs), so this is a clear failure."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return None
    return (f"{', '.join(missing)} missing: run `make browser` (as root it runs "
            "apt-get install chromium chromium-driver)")


@contextmanager
def serve(ctx: ServiceContext, settings: Settings | None = None) -> Iterator[str]:
    """The web view's routes in their own Starlette app on 127.0.0.1:FREE; yields the base
    URL and stops the server on leaving."""
    app = Starlette(routes=routes(WebDeps(ctx, settings or Settings())))
    # proto given: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits out the client's delayed ACK (44 ms a request)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web view did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def chromium(profile: Path, size: tuple[int, int] = PHONE) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, phone-sized unless told otherwise."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    options.add_argument("--lang=sv-SE")
    options.add_experimental_option("prefs", {"intl.accept_languages": "sv-SE,sv"})
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager is not used anyway
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: webdriver.Chrome, name: str, width: int) -> Path:
    """The whole page at ``width`` CSS pixels, as build/screenshots/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 400, "deviceScaleFactor": 1, "mobile": width < 600})
    height = int(driver.execute_script(
        "return Math.ceil(document.documentElement.scrollHeight)"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": max(height, 400), "deviceScaleFactor": 1,
        "mobile": width < 600})
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
