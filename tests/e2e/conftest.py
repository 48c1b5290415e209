"""Browser tests: the app served on 127.0.0.1 by a thread (`live_server`), driven by Playwright in Debian's chromium.

Playwright cannot download browsers here; we launch the system chromium
(scripts/install-system-deps.sh installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()), None)
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed; run scripts/install-system-deps.sh")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(autouse=True)
def _release_sqlite_write_lock():
    """Keep loaded attributes after commit, so the test thread does not re-read (and, on SQLite,
    hold the write lock that `BEGIN IMMEDIATE` takes) while the browser talks to the server."""
    from core.extensions import db

    db.session.session_factory.configure(expire_on_commit=False)
    yield
    db.session.session_factory.configure(expire_on_commit=True)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server


@pytest.fixture
def axe_violations():
    """`axe_violations(page)` → serious/critical axe-core violations on the page."""

    def run(page) -> list[dict]:
        # Evaluated through the DevTools protocol, so the page's strict CSP stays on.
        page.evaluate(AXE_JS.read_text())
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]

    return run
