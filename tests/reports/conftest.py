"""Fixtures for the report tests: the hand-made warehouse, its rendered report, and Chromium.

Self-contained: nothing here relies on tests/conftest.py. The data and helpers live in
`report_warehouse.py` so the test module can import the expected numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_warehouse import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, OpenedPage, build_warehouse, open_report, render


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def report(warehouse, tmp_path_factory) -> Path:
    """The rendered report of RUN_ID: `<out>/<RUN_ID>/index.html`."""
    return render(warehouse, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def chromium_browser():
    """Headless Debian Chromium (playwright cannot download its own browser offline)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; install it with `apt-get install -y chromium` (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def opened(chromium_browser, report) -> OpenedPage:
    """The rendered report open in Chromium; also saves tests/artifacts/report.png."""
    seen = open_report(chromium_browser, report)
    seen.page.wait_for_timeout(800)  # let the Sankey's 500 ms fade-in finish before looking
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seen.page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    yield seen
    seen.page.context.close()
