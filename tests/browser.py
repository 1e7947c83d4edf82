"""One headless Chromium for the whole test session (Playwright driving Debian's chromium).

Nothing is downloaded: Playwright launches ``/usr/bin/chromium``. Without Playwright or the
browser the browser tests are skipped — unless ``DUBAN_REQUIRE_BROWSER=1`` (CI), which turns
that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DUBAN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def unavailable(reason: str) -> None:
    if os.environ.get("DUBAN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (DUBAN_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


def launch():
    """(playwright, browser), or a skip/failure saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    pw = sync_playwright().start()
    try:
        return pw, pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as exc:  # noqa: BLE001 - a browser that cannot start is reported, once
        pw.stop()
        unavailable(f"chromium did not start: {exc}")


def screenshots(page, folder: Path, name: str) -> list[Path]:
    """Full-page PNGs of the current page at 390 px and 1280 px wide (copied to
    ``$DUBAN_SCREENSHOTS`` too, which is how the README's pictures in docs/ are made)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        path = folder / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
        extra = os.environ.get("DUBAN_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
    page.set_viewport_size({"width": 1280, "height": 900})
    return written
