"""Headless Chromium for the Web UI test: the system's ``chromium`` and ``chromedriver``,
installed with apt-get when missing (CI runs as root on Debian)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def ensure_chromium() -> tuple[str, str]:
    """``(chromium, chromedriver)`` paths; installs the Debian packages when they are missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"],
            check=True,
            env=env,
            capture_output=True,
        )
        chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "apt-get installed chromium but chromium/chromedriver not on PATH"
    return chromium, driver


def headless_chromium() -> Any:
    """A Selenium driver on a fresh profile (an empty ``--user-data-dir``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = ensure_chromium()
    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='tempflare-chromium-')}")
    options.binary_location = chromium
    return webdriver.Chrome(options=options, service=Service(driver))
