"""Shop fixtures: a real localstripe on loopback (one per session), the app served by a thread so
localstripe's signed webhooks reach it, and the app's Stripe gateway pointed at localstripe."""

from __future__ import annotations

import pytest

from tests.conftest import serving
from tests.shop.stripe_local import RecordingGateway, WebhookGate, register_webhook, running_localstripe, wipe


@pytest.fixture(scope="session")
def localstripe_url():
    with running_localstripe() as url:
        yield url


@pytest.fixture(scope="session")
def webhook_gate(app):
    return WebhookGate(app)


@pytest.fixture(scope="session")
def shop_server(app, webhook_gate, localstripe_url):
    """The app on a free loopback port, with localstripe's webhook pointed at it."""
    with serving(webhook_gate) as url:
        register_webhook(localstripe_url, f"{url}/stripe/webhook", app.config["STRIPE_WEBHOOK_SECRET"])
        yield url


@pytest.fixture
def stripe_local(app, localstripe_url, shop_server, webhook_gate):
    """The app talks to localstripe for this test; returns the gateway (with `.gate`)."""
    original = app.extensions["stripe_gateway"]
    gateway = RecordingGateway(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"],
                               api_base=localstripe_url, gate=webhook_gate)
    app.extensions["stripe_gateway"] = gateway
    webhook_gate.reset()
    yield gateway
    webhook_gate.reset()
    app.extensions["stripe_gateway"] = original
    wipe(localstripe_url)
