"""How fast a run's report opens in headless Chromium, as one printed table.

    uv run python benchmarks/report_render.py                  # the browser tests' report, and reports/latest
    uv run python benchmarks/report_render.py PAGE.html ...    # any reports, e.g. of a bigger warehouse

Each report is opened `--loads` times, each in a fresh browser context at 1280x900 (as the browser tests
do), from `file://`. Measured by the page itself: first contentful paint (the text, tables and headline
numbers are readable) and ready (`window.journeyReport.readyAt`: the last figure has drawn), both in ms
since navigation started. The target (issue #6) is ready in under 2 s on a 2-core machine; the machine's
reference timings (`machine.py`) are printed with the table, because this machine's speed varies by up to
~3x between days (docs/performance.md).

Needs Debian's `chromium` (`apt-get install -y chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "reports"))  # the browser tests' report and their Chromium settings
from report_warehouse import CHROMIUM, CHROMIUM_ARGS, build_warehouse, render  # noqa: E402

TARGET_MS = 2000


def test_report(folder: Path) -> Path:
    """The hand-made report the browser tests open: every section, five figures, hostile strings."""
    return render(build_warehouse(folder / "warehouse.duckdb"), folder / "reports")


def measure(browser, report: Path, loads: int) -> dict:
    """First paint and ready times (ms) of `loads` fresh loads of `report`."""
    paints, ready, figures = [], [], 0
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_function("() => window.journeyReport && window.journeyReport.readyAt !== null",
                               timeout=30000)
        seen = page.evaluate("() => [window.journeyReport.readyAt, window.journeyReport.expected, "
                             "performance.getEntriesByName('first-contentful-paint')[0].startTime]")
        ready.append(seen[0])
        figures = seen[1]
        paints.append(seen[2])
        context.close()
    return {"kb": report.stat().st_size / 1024, "figures": figures,
            "paint_ms": statistics.median(paints), "ready_min": min(ready), "ready_median": statistics.median(ready),
            "ready_max": max(ready), "under_target": sum(r < TARGET_MS for r in ready), "loads": loads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="*", type=Path)
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    import machine  # benchmarks/machine.py, beside this script

    with tempfile.TemporaryDirectory() as tmp:
        latest = ROOT / "reports" / "latest" / "index.html"
        reports = {str(p): p.resolve() for p in args.reports}
        if not reports:
            reports["the browser tests' report"] = test_report(Path(tmp))
            if latest.exists():
                reports["reports/latest"] = latest
        before = machine.speed()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            browser.new_page().close()  # the browser's own start-up is not the report's
            rows = [{"name": name, **measure(browser, report, args.loads)} for name, report in reports.items()]
            browser.close()
        after = machine.speed()
    print(machine.line(before, after))
    print(f"\n{'report':<44}{'KB':>7}{'figures':>9}{'paint ms':>10}{'ready ms: min':>15}{'median':>8}{'max':>8}"
          f"{'< 2 s':>8}")
    for r in rows:
        print(f"{r['name'][-43:]:<44}{r['kb']:>7,.0f}{r['figures']:>9}{r['paint_ms']:>10,.0f}{r['ready_min']:>15,.0f}"
              f"{r['ready_median']:>8,.0f}{r['ready_max']:>8,.0f}{r['under_target']:>5}/{r['loads']}")


if __name__ == "__main__":
    main()
