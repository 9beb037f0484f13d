"""What every browser test shares: Debian's Chromium, a CSP-safe wait, a live server."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_browser() -> None:
    """Skip (or fail under BODYCAM_REQUIRE_SERVICES=1) without Chromium; skip without Playwright."""
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("BODYCAM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason + "; BODYCAM_REQUIRE_SERVICES=1 requires it (.ci/run installs it)")
        pytest.skip(reason)
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def wait_js(page: Any, expression: str, timeout: int = 30000) -> None:
    """Wait until a JavaScript expression (or arrow function) is truthy in the page.

    Polls from Python with ``page.evaluate``, which runs through the DevTools protocol.
    ``page.wait_for_function`` instead polls with ``eval`` inside the page, which our
    Content-Security-Policy (no 'unsafe-eval') refuses whenever the first check fails.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression):
            return
        assert time.monotonic() < deadline, f"still false after {timeout} ms: {expression}"
        time.sleep(0.05)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
