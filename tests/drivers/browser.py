"""A real headless Chromium (Debian's `chromium` and `chromium-driver`, which scripts/test
installs) driven with Selenium: what a reader sees on a page, its accessibility tree's
roles and names, computed colours, and screenshots. Selenium is blocking: call `look` from
a thread (`asyncio.to_thread`) while the bot serves on the test's loop."""

from __future__ import annotations

__all__ = ["Seen", "look"]

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

DESKTOP = (1280, 900)
PHONE = (390, 844)


@dataclass(frozen=True)
class Seen:
    text: str  # what is rendered as text (innerText), as a reader sees it
    title: str
    landmarks: list[tuple[str, str]]  # (tag, computed ARIA role) of header, main, footer…
    headings: list[tuple[int, str]]  # (level, text) in document order
    bars: list[tuple[str, str]]  # (computed role, accessible name) of each component's bars
    colours: list[tuple[str, str, str]]  # (words, colour, background behind them)
    phone_width: int  # CSS px the page is laid out in on a phone (its screen's, with the meta)
    phone_overflow: int  # px the page is wider than that (0: no sideways scrolling)
    screenshots: dict[str, Path]


@contextmanager
def _chromium(size: tuple[int, int], *, phone: bool = False) -> Iterator[webdriver.Chrome]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--force-device-scale-factor=1",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(argument)
    if phone:  # a phone's screen, which lays the page out by its viewport meta
        metrics = {"width": size[0], "height": size[1], "pixelRatio": 2, "mobile": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


_COLOURS = """
const opaque = (el) => {
  for (; el; el = el.parentElement) {
    const bg = getComputedStyle(el).backgroundColor;
    if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
  }
  return 'rgb(255, 255, 255)';
};
return [...document.querySelectorAll('.state, .banner h2, .banner p')].map(
  (el) => [el.innerText.trim(), getComputedStyle(el).color, opaque(el)]);
"""
_HEADINGS = """
return [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(
  (h) => [Number(h.tagName[1]), h.innerText.trim()]);
"""


def _shoot(chrome: webdriver.Chrome, path: Path) -> Path:
    """The whole page, not only what fits in the window."""
    size = chrome.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = chrome.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def look(url: str, shots: Path) -> Seen:
    """Open `url` at a desktop size and at a phone's, and say what is there."""
    with _chromium(DESKTOP) as chrome:
        chrome.get(url)
        body = chrome.find_element(By.TAG_NAME, "body")
        text = body.text
        landmarks = [
            (el.tag_name, el.aria_role)
            for el in chrome.find_elements(By.CSS_SELECTOR, "header, main, footer, nav, aside")
        ]
        headings: list[Any] = chrome.execute_script(_HEADINGS)
        bars = [
            (el.aria_role, el.accessible_name)
            for el in chrome.find_elements(By.CSS_SELECTOR, ".bars")
        ]
        colours: list[Any] = chrome.execute_script(_COLOURS)
        desktop = _shoot(chrome, shots / "status-desktop.png")
        title = chrome.title
    with _chromium(PHONE, phone=True) as chrome:
        chrome.get(url)
        width = int(chrome.execute_script("return window.innerWidth"))
        overflow = int(
            chrome.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        )
        phone = _shoot(chrome, shots / "status-phone.png")
    return Seen(
        text=text,
        title=title,
        landmarks=landmarks,
        headings=[(int(level), str(words)) for level, words in headings],
        bars=bars,
        colours=[(str(w), str(c), str(b)) for w, c, b in colours],
        phone_width=width,
        phone_overflow=overflow,
        screenshots={"desktop": desktop, "phone": phone},
    )
