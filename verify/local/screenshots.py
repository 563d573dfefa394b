"""The README's pictures of the local run: the page while its first region is dead, and the
control view at that moment. `python -m verify.local.screenshots docs/screenshots` (`make
screenshots` runs it), in headless Chromium (Debian's, as the front-end tests use).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path


def take(directory: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from verify.local.__main__ import local_blog

    directory.mkdir(parents=True, exist_ok=True)
    page_shot, control_shot = directory / "local-page-outage.png", directory / "local-control.png"
    with local_blog(port=0, lag=1.0, lease_seconds=10) as (control, origin, _), sync_playwright() as playwright:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            page.goto(origin + "/")
            page.wait_for_selector("#posts li")
            first = next(iter(control.status()["regions"]))
            control.act(first, "kill")
            page.reload()
            page.wait_for_selector("#posts li")
            page.screenshot(path=str(page_shot))
            survivor = list(control.status()["regions"])[1]
            deadline = time.monotonic() + 60
            while control.status()["regions"][survivor]["primary_seen"] != survivor:  # it took the lease over
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{survivor} never took the write lease over")
                time.sleep(0.5)
            view = browser.new_page(viewport={"width": 1000, "height": 520})
            view.goto(origin + "/control")
            view.wait_for_selector("tr[data-region]")
            time.sleep(1.5)  # a refresh or two
            view.screenshot(path=str(control_shot))
        finally:
            browser.close()
    return [page_shot, control_shot]


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
