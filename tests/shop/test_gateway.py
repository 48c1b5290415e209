"""The gateway is the one place rupiah become Stripe minor units (IDR has two decimals in Stripe)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import stripe

from shop.stripe_gateway import StripeGateway, from_minor, to_minor


class FakeHTTP(stripe.HTTPClient):
    """Records what the gateway sends; answers like Stripe would for a succeeded intent."""

    name = "fake"

    def __init__(self, status: int = 200, body: dict | None = None):
        super().__init__()
        self.calls: list[tuple[str, str, dict, dict]] = []
        self.status = status
        self.body = body

    def request(self, method, url, headers, post_data=None):
        params = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        self.calls.append((method, url, headers, params))
        body = self.body or {"id": "pi_fake", "object": "payment_intent", "status": "succeeded",
                             "amount": int(params.get("amount", 0)), "currency": params.get("currency", "idr"),
                             "metadata": {}}
        return json.dumps(body), self.status, {}

    def close(self):
        pass


def test_rupiah_become_minor_units_times_100():
    assert to_minor(67_000) == 6_700_000
    assert from_minor(6_700_000) == 67_000
    with pytest.raises(ValueError):
        to_minor(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        from_minor(150)  # a fraction of a rupiah never comes back from an IDR charge


def test_the_payment_intent_carries_amount_times_100_card_only_metadata_and_the_attempt_key(app):
    http = FakeHTTP()
    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=http)
    result = gateway.pay(order_id=7, order_number="WEB-1", amount=67_000, payment_method="pm_card_visa",
                         idempotency_key="attempt-1")
    method, url, headers, params = http.calls[0]
    assert method == "post" and url.endswith("/v1/payment_intents")
    assert params["amount"] == "6700000" and params["currency"] == "idr"
    assert params["payment_method_types[0]"] == "card" and params["confirm"] == "true"
    assert params["metadata[order_id]"] == "7"
    assert headers["Idempotency-Key"] == "attempt-1"
    assert result.succeeded and result.amount == 67_000


def test_refund_sends_minor_units(app):
    http = FakeHTTP(body={"id": "re_1", "object": "refund", "status": "succeeded", "amount": 1_500_000})
    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=http)
    assert gateway.refund(intent_id="pi_1", amount=15_000, idempotency_key="r-1") == "re_1"
    assert http.calls[0][3]["amount"] == "1500000"


def test_stripe_down_is_a_clear_unavailable_error(app):
    from shop.stripe_gateway import PaymentUnavailable

    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=FakeHTTP(status=500, body={"error": {
        "message": "boom", "type": "api_error"}}))
    with pytest.raises(PaymentUnavailable) as error:
        gateway.pay(order_id=1, order_number="WEB-1", amount=1000, payment_method="pm_card_visa",
                    idempotency_key="k")
    assert "tidak dapat dihubungi" in error.value.detail


def test_a_decline_is_a_result_with_an_indonesian_message(app):
    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=FakeHTTP(status=402, body={"error": {
        "message": "Your card was declined.", "type": "card_error", "code": "card_declined"}}))
    result = gateway.pay(order_id=1, order_number="WEB-1", amount=1000, payment_method="pm_card_visa",
                         idempotency_key="k")
    assert result.declined and result.message.startswith("Kartu ditolak")


def test_webhook_verification_rejects_a_bad_signature(app):
    from shop.stripe_gateway import InvalidWebhook

    gateway = StripeGateway("sk_test_x", "whsec_right")
    with pytest.raises(InvalidWebhook):
        gateway.verify_event(b'{"id": "evt_1", "type": "x"}', "t=1,v1=deadbeef")


class ScriptedHTTP(FakeHTTP):
    """Answers each call with the next (status, body) of a script."""

    def __init__(self, *answers: tuple[int, dict]):
        super().__init__()
        self.answers = list(answers)

    def request(self, method, url, headers, post_data=None):
        self.calls.append((method, url, headers, {k: v[0] for k, v in parse_qs(post_data or "").items()}))
        status, body = self.answers.pop(0)
        return json.dumps(body), status, {}


NO_SUCH_INTENT = (404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                  "message": "No such payment_intent: 'pi_gone'"}})


@pytest.mark.parametrize("call", ["retrieve", "cancel", "authenticate_test"])
def test_every_stripe_refusal_becomes_a_domain_error_with_an_indonesian_message(app, call):
    """An intent Stripe does not know (or any other refusal) must not escape as a StripeError
    (a 500 in staff cancel, a rolled-back expire-reservations run)."""
    from core.errors import DomainError

    refused_cancel = (400, {"error": {"type": "invalid_request_error", "message": "Bad request"}})
    answers = {"retrieve": [NO_SUCH_INTENT], "cancel": [refused_cancel, NO_SUCH_INTENT],
               "authenticate_test": [NO_SUCH_INTENT]}[call]
    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=ScriptedHTTP(*answers),
                            api_base="http://127.0.0.1:9")
    with pytest.raises(DomainError) as error:
        if call == "authenticate_test":
            gateway.authenticate_test("pi_gone", "secret", True)
        else:
            getattr(gateway, call)("pi_gone")
    assert not isinstance(error.value, stripe.StripeError)
    assert "Stripe" in error.value.detail and "pi_gone" in error.value.detail


def test_a_reused_idempotency_key_is_unavailable_not_a_card_decline(app):
    """Stripe refuses a key sent again with other parameters (IdempotencyError): nothing was charged
    by this call and the card is fine, so the buyer must not read "Pembayaran ditolak"."""
    from shop.stripe_gateway import PaymentUnavailable

    gateway = StripeGateway("sk_test_x", "whsec_x", http_client=FakeHTTP(status=400, body={"error": {
        "type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same "
                                                "parameters they were first used with."}}))
    with pytest.raises(PaymentUnavailable) as error:
        gateway.pay(order_id=1, order_number="WEB-1", amount=1000, payment_method="pm_card_visa",
                    idempotency_key="order-1-rp1000-try1")
    assert "coba bayar lagi" in error.value.detail
