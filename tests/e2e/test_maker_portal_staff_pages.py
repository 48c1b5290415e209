"""The staff side of payouts and the report page: usable in a real browser, no serious axe findings."""

from __future__ import annotations

import pytest

from core.extensions import db
from payouts import services
from tests.factories import TEST_PASSWORD
from tests.factories.payouts import key, product, sell, shop

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Indonesian is the default UI language; the browser asks for it explicitly.
    return {**browser_context_args, "locale": "id-ID"}


def test_payout_and_report_pages_have_no_serious_accessibility_violations(page, live_server, axe_violations):
    s = shop(hold_days=0)
    sell(s, [(product(s.sentra, price=120_000, category="Batik"), 2)])
    run = services.create_run(s.manager, s.sentra, cutoff_date=s.sentra.local_date(), client_key=key())
    db.session.commit()
    run_id, email = run.id, s.manager2.email
    page.goto(f"{live_server}/accounts/masuk")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/staf")
    for path in ("/payouts/runs", f"/payouts/runs/{run_id}", "/reports/?per=day", "/reports/?per=maker"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path
    page.goto(f"{live_server}/payouts/runs/{run_id}")
    page.get_by_role("button", name="Setujui (orang kedua)").click()
    assert "Pencairan disetujui." in page.content()
    assert "Disetujui (siap dibayar)" in page.content()
