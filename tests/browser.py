"""Open HTML pages in headless Chromium (Playwright driving the system's browser) and say
what a reader would see: visible text, images and whether they decoded, errors.

Playwright's own browser downloads are not used: CI installs Debian's ``chromium``
(``.ci/setup-browser``) and ``SPECTRAMIND_CHROMIUM`` may name any other build. Pages are
opened offline: every http(s) request is aborted and reported, since the reports must
open from a copied folder with no network.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, sync_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
VIEWPORT = {"width": 1400, "height": 900}
SETTLE_MS = 10_000  # longest wait for a page to finish loading
DATA_URI_PREFIX = 64  # characters kept of an image's data: URI (the rest is its data)
# A frame's images outside the elements matching a selector: (src, naturalWidth, complete).
IMAGES_JS = """(outside) => Array.from(document.images)
    .filter(i => !(outside && i.closest(outside)))
    .map(i => [i.currentSrc || i.src, i.naturalWidth, i.complete])"""


@dataclass(frozen=True)
class Image:
    """An <img> as loaded (``src`` cut short if it is a data: URI); ``natural_width`` is
    0 when it failed to load or decode."""

    src: str
    natural_width: int
    complete: bool


@dataclass
class PageReport:
    """What a page showed: its visible text, its images and the errors met loading it."""

    text: str
    images: list[Image]
    errors: list[str]
    screenshot: Path


@dataclass
class OpenPage:
    """A loaded page and the errors collected since it was opened (console errors,
    uncaught exceptions, failed or external requests), in every frame."""

    page: Page
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportResult:
    """One result of a Snakemake report as listed in its menu; ``images`` are those shown
    after its view button was clicked (figures only; other files are downloads)."""

    category: str
    subcategory: str | None
    name: str
    images: list[Image]


def find_chromium() -> str | None:
    """The Chromium to drive: ``$SPECTRAMIND_CHROMIUM``, else the first of
    ``CHROMIUM_NAMES`` on PATH, else None."""
    chosen = os.environ.get("SPECTRAMIND_CHROMIUM")
    if chosen:
        return chosen
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def _url(path_or_url: str | Path) -> str:
    """A URL as given, a local path as an absolute file:// URL."""
    if isinstance(path_or_url, str) and re.match(r"^[a-z]+://", path_or_url):
        return path_or_url
    return Path(path_or_url).resolve().as_uri()


def _on_console(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        errors.append(f"console error: {message.text} ({message.location.get('url', '')[:80]})")


def _on_request_failed(errors: list[str], request: Request) -> None:
    errors.append(f"request failed: {request.url[:200]} ({request.failure})")


@contextmanager
def open_page(path_or_url: str | Path) -> Iterator[OpenPage]:
    """Load a page in headless Chromium and wait until it has settled (loaded, network
    idle); the browser closes when the block ends. Raises RuntimeError if no Chromium is
    found. External (http/https) requests are aborted and recorded as errors."""
    executable = find_chromium()
    if executable is None:
        raise RuntimeError(
            f"no Chromium: set SPECTRAMIND_CHROMIUM or put one of {CHROMIUM_NAMES} on PATH"
        )
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root; --disable-dev-shm-usage: containers' /dev/shm is small
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(SETTLE_MS)
            opened = OpenPage(page)
            page.on("console", lambda message: _on_console(opened.errors, message))
            page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: _on_request_failed(opened.errors, request))
            page.route(re.compile(r"^https?://"), lambda route: route.abort("blockedbyclient"))
            page.goto(_url(path_or_url), wait_until="load", timeout=SETTLE_MS)
            page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
            yield opened
        finally:
            browser.close()


def page_images(page: Page, outside: str | None = None) -> list[Image]:
    """Every <img> of the page and of its frames as loaded now, but those inside elements
    matching the CSS selector ``outside``."""
    return [
        Image(src[:DATA_URI_PREFIX] if src.startswith("data:") else src, width, complete)
        for frame in page.frames
        for src, width, complete in frame.evaluate(IMAGES_JS, outside)
    ]


def page_report(opened: OpenPage, screenshot: Path) -> PageReport:
    """The page's visible text and images now, and a full-page screenshot (PNG)."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=screenshot, full_page=True)
    return PageReport(
        text=opened.page.inner_text("body"),
        images=page_images(opened.page),
        errors=list(opened.errors),
        screenshot=screenshot,
    )


def inspect_page(path_or_url: str | Path, screenshot: Path) -> PageReport:
    """Open a page, let it settle, and report what it shows (see ``page_report``)."""
    with open_page(path_or_url) as opened:
        return page_report(opened, screenshot)


# A Snakemake report (snakemake 9) is a React app. Its left menu (the first <nav>) is a
# <ul>: "General" entries, then a "Results" heading (<li class="uppercase">) and one
# <li><a><svg/><span>Category</span></a></li> per category, sorted by name; a report with a
# single category shows one "Results" entry instead. Clicking a category lists its
# subcategories the same way or, when it has only one, a <table> of results: a row per
# file, its first cell the file's label or path, then a view button (<a iconname="eye">).
# For a figure (PNG, SVG, JPEG) the button shows an <img> in the main panel (HTML and PDF:
# an <iframe>); for other files it is a download link (it has a ``download`` attribute).
# The breadcrumbs (<nav><ol>) begin with a home link back to the menu.
MENU_ITEMS_JS = """() => Array.from(document.querySelectorAll("#app nav ul > li"),
    li => [li.classList.contains("uppercase"), li.textContent.trim()])"""
MENU_LINKS = "#app nav ul > li > a > span"
BREADCRUMBS = "#app nav ol > li"
RESULT_ROWS = "#app nav table tbody tr"
VIEW_BUTTON = "a[iconname=eye]"
IMAGES_LOADED_JS = "() => Array.from(document.images).every(i => i.complete)"


def _click_menu(page: Page, name: str) -> None:
    """Click the menu entry called exactly ``name``."""
    exact = re.compile(rf"^\s*{re.escape(name)}\s*$")
    page.locator(MENU_LINKS).filter(has_text=exact).first.click()


def _go_home(page: Page) -> None:
    """Back to the report's main menu (its first breadcrumb)."""
    page.locator(f"{BREADCRUMBS} a").first.click()
    page.locator(MENU_LINKS).first.wait_for()


def _open_category(page: Page, category: str, single: bool) -> None:
    """From anywhere, show ``category`` (behind the "Results" entry if it is the only one)."""
    _go_home(page)
    _click_menu(page, "Results" if single else category)
    page.locator(f"{RESULT_ROWS}, {MENU_LINKS}").first.wait_for()


def report_categories(page: Page) -> list[str]:
    """The result categories a Snakemake report's menu offers, in menu order. A single
    category is offered as "Results": its name is then read from the breadcrumbs."""
    _go_home(page)
    items = [tuple(item) for item in page.evaluate(MENU_ITEMS_JS)]  # (is heading, text)
    if (True, "Results") in items:
        after = items[items.index((True, "Results")) + 1 :]
        return [text for heading, text in after if not heading]
    if (False, "Results") not in items:
        return []  # a report without results
    _click_menu(page, "Results")
    crumbs = [text.strip() for text in page.locator(BREADCRUMBS).all_inner_texts()]
    _go_home(page)
    return [text for text in crumbs if text][1:2]  # menu (an icon), "Results", category


def _results_shown(page: Page, category: str, subcategory: str | None) -> list[ReportResult]:
    """The results in the table shown now, each figure opened to load its image."""
    found = []
    rows = page.locator(RESULT_ROWS)
    for index in range(rows.count()):
        row = rows.nth(index)
        name = row.locator("td").first.inner_text().strip()
        button = row.locator(VIEW_BUTTON).first
        images: list[Image] = []
        if button.count() and button.get_attribute("download") is None:
            button.click()
            page.wait_for_function(IMAGES_LOADED_JS)
            images = page_images(page, outside="nav")  # not the menu's logo
        found.append(ReportResult(category, subcategory, name, images))
    return found


def report_results(page: Page) -> list[ReportResult]:
    """Every result of a Snakemake report, found by clicking through its menu (category,
    then subcategory when there are several); figures are opened so their images load.
    The page is left showing the last category's results."""
    found: list[ReportResult] = []
    categories = report_categories(page)
    single = len(categories) == 1
    for category in categories:
        _open_category(page, category, single)
        if page.locator(RESULT_ROWS).count():
            found += _results_shown(page, category, None)
            continue
        for subcategory in [text.strip() for text in page.locator(MENU_LINKS).all_inner_texts()]:
            _open_category(page, category, single)
            _click_menu(page, subcategory)
            page.locator(RESULT_ROWS).first.wait_for()
            found += _results_shown(page, category, subcategory)
    return found
