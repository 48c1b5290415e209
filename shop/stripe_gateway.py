"""The only module that talks to Stripe.

Rupiah become Stripe minor units here and nowhere else: IDR is a two-decimal currency in the
Stripe API, so Rp 67.000 is sent as `amount=6700000` (`to_minor`). With `STRIPE_API_BASE` set the
client talks to a local Stripe-compatible server (localstripe) instead of api.stripe.com; the
code path is otherwise the same. Errors come back as Indonesian messages a buyer understands, and
no `stripe.StripeError` leaves this module: a decline is a result, an unreachable Stripe is
`PaymentUnavailable`, any other refusal a `DomainError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import Flask, current_app
from stripe.params import RefundCreateParams

from core.errors import DomainError, ServiceUnavailable

CURRENCY = "idr"
#: Stripe's recommended tolerance: a signed event older than this is refused (replay protection)
WEBHOOK_TOLERANCE_SECONDS = 300

#: local mode offers these Stripe test payment methods instead of the card form
LOCAL_TEST_METHODS = {
    "pm_card_visa": "Kartu uji berhasil (Visa 4242)",
    "pm_card_chargeCustomerFail": "Kartu uji ditolak",
    "3ds": "Kartu uji dengan 3-D Secure (4000 0025 0000 3155)",
}
THREE_DS_TEST_CARD = "4000002500003155"

DECLINE_MESSAGES = {
    "card_declined": "Kartu ditolak oleh bank penerbit. Coba kartu lain atau hubungi bank Anda.",
    "insufficient_funds": "Saldo atau limit kartu tidak cukup. Coba kartu lain.",
    "expired_card": "Kartu sudah kedaluwarsa. Gunakan kartu lain.",
    "incorrect_cvc": "Kode keamanan (CVC) kartu salah. Periksa lalu coba lagi.",
    "incorrect_number": "Nomor kartu salah. Periksa lalu coba lagi.",
    "processing_error": "Bank sedang tidak dapat memproses kartu. Coba lagi sebentar lagi.",
    "payment_intent_authentication_failure": "Verifikasi 3-D Secure gagal atau dibatalkan. Coba bayar lagi.",
}
DEFAULT_DECLINE = "Pembayaran ditolak. Coba kartu lain atau hubungi bank Anda."
UNAVAILABLE = ("Layanan pembayaran sedang tidak dapat dihubungi. Pesanan Anda tetap tersimpan; "
               "silakan coba bayar lagi beberapa saat lagi.")


class PaymentUnavailable(ServiceUnavailable):
    """Stripe could not be reached (or answered 5xx): nothing was charged as far as we know."""


class InvalidWebhook(DomainError):
    status = 400
    title = "Webhook tidak sah"


def to_minor(rupiah: int) -> int:
    """Rupiah → Stripe minor units for IDR (× 100). The one place this conversion happens."""
    if not isinstance(rupiah, int) or isinstance(rupiah, bool) or rupiah < 0:
        raise ValueError("amount must be a non-negative integer number of rupiah")
    return rupiah * 100


def from_minor(minor: int) -> int:
    if minor % 100:
        raise ValueError("IDR amounts from Stripe must be whole rupiah")
    return minor // 100


@dataclass
class IntentResult:
    """What a PaymentIntent call answered, reduced to what the shop needs."""

    intent_id: str | None
    status: str  # succeeded | requires_action | processing | requires_payment_method | declined | canceled
    amount: int | None = None  # rupiah
    currency: str = CURRENCY
    client_secret: str | None = None
    message: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def declined(self) -> bool:
        return self.status in ("declined", "requires_payment_method", "canceled")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    try:
        return obj.get(name, default)
    except (AttributeError, TypeError):
        return getattr(obj, name, default)


class StripeGateway:
    def __init__(self, api_key: str, webhook_secret: str, *, api_base: str = "",
                 http_client: Any | None = None, publishable_key: str = ""):
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.api_base = api_base.rstrip("/")
        options: dict[str, Any] = {"max_network_retries": 0}
        if self.api_base:
            options["base_addresses"] = {"api": self.api_base}
        if http_client is not None:
            options["http_client"] = http_client
        self.client = stripe.StripeClient(api_key, **options)

    @property
    def local_mode(self) -> bool:
        """True when talking to localstripe: the checkout offers test payment methods."""
        return bool(self.api_base)

    # -- payments -------------------------------------------------------------------------------

    def pay(self, *, order_id: int, order_number: str, amount: int, payment_method: str,
            idempotency_key: str) -> IntentResult:
        """Create and confirm a PaymentIntent for `amount` rupiah; never raises on a decline."""
        try:
            if payment_method == "3ds" and self.local_mode:
                payment_method = self._three_ds_test_method()
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": to_minor(amount),
                    "currency": CURRENCY,
                    "payment_method_types": ["card"],
                    "payment_method": payment_method,
                    "confirm": True,
                    "metadata": {"order_id": str(order_id), "order_number": order_number},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            return self._declined(error, self._intent_of_charge(error))
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            current_app.logger.warning("stripe unavailable: %s", error.__class__.__name__)
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.IdempotencyError:
            # The key was used before with other parameters (checkout.intent_key should prevent it):
            # this call charged nothing and the card is fine, so it is no decline; try again.
            current_app.logger.warning("stripe refused a reused idempotency key for order %s", order_number)
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            current_app.logger.warning("stripe refused the payment: %s", error.__class__.__name__)
            return IntentResult(None, "declined", message=DEFAULT_DECLINE)
        return self._result(intent)

    def retrieve(self, intent_id: str) -> IntentResult:
        """The intent as Stripe has it now; PaymentUnavailable, or DomainError when Stripe refuses."""
        try:
            intent = self.client.v1.payment_intents.retrieve(intent_id)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            raise _refused(error, f"Stripe menolak memeriksa pembayaran {intent_id}") from None
        return self._result(intent)

    def authenticate_test(self, intent_id: str, client_secret: str | None, success: bool) -> IntentResult:
        """Local mode only: complete (or fail) 3-D Secure the way localstripe's Stripe.js would."""
        if not self.local_mode:
            raise DomainError("Simulasi 3-D Secure hanya tersedia di mode uji lokal.")
        try:
            response = self.client.raw_request(
                "post", f"/v1/payment_intents/{intent_id}/_authenticate",
                client_secret=client_secret, success="true" if success else "false",
            )
            intent = self.client.deserialize(response, api_mode="V1")
        except stripe.CardError as error:
            return self._declined(error)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            raise _refused(error, f"Stripe menolak verifikasi 3-D Secure untuk pembayaran {intent_id}") from None
        return self._result(intent)

    def cancel(self, intent_id: str) -> IntentResult:
        """Cancel an open PaymentIntent so nobody can still pay it; answers what the intent is now.

        An intent Stripe will not cancel because it already succeeded (or is already cancelled)
        comes back with that status: the caller books a paid order instead of cancelling it.
        Raises PaymentUnavailable when Stripe cannot be reached, DomainError when it refuses (an
        intent it does not know included): never a bare StripeError.
        """
        try:
            intent = self.client.v1.payment_intents.cancel(intent_id)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
            current_app.logger.warning("stripe unavailable cancelling %s", intent_id)
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            current = self.retrieve(intent_id)  # itself raises only PaymentUnavailable or DomainError
            if current.status in ("succeeded", "canceled"):
                return current
            raise _refused(error, f"Stripe menolak membatalkan pembayaran {intent_id} (status {current.status})") \
                from None
        return self._result(intent)

    def refund(self, *, intent_id: str, amount: int, idempotency_key: str,
               metadata: dict[str, str] | None = None) -> str:
        """Refund `amount` rupiah of a paid intent; returns the Stripe refund id."""
        return self._create_refund({"payment_intent": intent_id, "amount": to_minor(amount),
                                    "metadata": metadata or {}}, idempotency_key)

    def refund_intent(self, *, intent_id: str, idempotency_key: str, metadata: dict[str, str] | None = None) -> str:
        """Refund a paid intent in full, once per `idempotency_key`; returns the Stripe refund id.

        The key goes to Stripe and into the refund's metadata: a refund already made with this key
        (an earlier call whose answer was lost) is found and returned, so even a Stripe that does
        not enforce idempotency keys (localstripe) refunds once.
        """
        try:
            done = self.client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
            for earlier in done.data:
                if _metadata(earlier).get("idempotency_key") == idempotency_key:
                    return earlier.id
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            raise _refused(error, "Stripe menolak pengembalian dana") from None
        return self._create_refund({"payment_intent": intent_id,
                                    "metadata": {**(metadata or {}), "idempotency_key": idempotency_key}},
                                   idempotency_key)

    def _create_refund(self, params: RefundCreateParams, idempotency_key: str) -> str:
        """Create a refund; a refund Stripe neither made nor queued is an error, never a silent success."""
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
            raise PaymentUnavailable(UNAVAILABLE) from None
        except stripe.StripeError as error:
            raise _refused(error, "Stripe menolak pengembalian dana") from None
        if _get(refund, "status") not in ("succeeded", "pending"):
            raise DomainError("Stripe tidak menyelesaikan pengembalian dana. Coba lagi nanti.")
        return refund.id

    # -- webhooks --------------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event from a webhook body, if its `Stripe-Signature` is valid and recent."""
        if not signature_header:
            raise InvalidWebhook("Tanda tangan Stripe tidak ada.")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature_header, self.webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            raise InvalidWebhook("Tanda tangan Stripe tidak sah atau sudah kedaluwarsa.") from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise InvalidWebhook("Isi webhook bukan JSON.") from None
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise InvalidWebhook("Isi webhook tidak lengkap.")
        return event

    @staticmethod
    def intent_from_event(event: dict[str, Any]) -> IntentResult:
        obj = (event.get("data") or {}).get("object") or {}
        amount = obj.get("amount")
        return IntentResult(
            intent_id=obj.get("id"), status=str(obj.get("status") or ""),
            amount=from_minor(amount) if isinstance(amount, int) and amount % 100 == 0 else None,
            currency=str(obj.get("currency") or ""), metadata=dict(obj.get("metadata") or {}),
            message=_decline_message((obj.get("last_payment_error") or {}).get("code")),
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _three_ds_test_method(self) -> str:
        method = self.client.v1.payment_methods.create(params={
            "type": "card",
            "card": {"number": THREE_DS_TEST_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        })
        return method.id

    def _intent_of_charge(self, error: stripe.CardError) -> str | None:
        """The declined intent's id when the error names only its charge (localstripe does)."""
        detail = getattr(error, "error", None)
        if _get(detail, "payment_intent") or not _get(detail, "charge"):
            return None
        try:
            charge = self.client.v1.charges.retrieve(_get(detail, "charge"))
        except stripe.StripeError:
            return None
        intent = _get(charge, "payment_intent")
        return intent if isinstance(intent, str) or intent is None else _get(intent, "id")

    @staticmethod
    def _declined(error: stripe.CardError, intent_id: str | None = None) -> IntentResult:
        intent = _get(getattr(error, "error", None), "payment_intent")
        return IntentResult(
            intent_id=_get(intent, "id") or intent_id, status="declined",
            message=_decline_message(getattr(error, "code", None)),
        )

    @staticmethod
    def _result(intent: Any) -> IntentResult:
        amount = _get(intent, "amount")
        status = str(_get(intent, "status") or "")
        message = ""
        if status == "requires_payment_method":
            message = _decline_message(_get(_get(intent, "last_payment_error"), "code"))
        metadata = _metadata(intent)
        return IntentResult(
            intent_id=_get(intent, "id"), status=status,
            amount=from_minor(amount) if isinstance(amount, int) else None,
            currency=str(_get(intent, "currency") or ""), client_secret=_get(intent, "client_secret"),
            message=message, metadata=dict(metadata),
        )


def _refused(error: stripe.StripeError, what: str) -> DomainError:
    """A refusal from Stripe as the DomainError callers handle (Stripe's own words appended)."""
    current_app.logger.warning("%s: %s", what, error.__class__.__name__)
    return DomainError(f"{what}: {error.user_message or 'coba lagi nanti'}.")


def _metadata(obj: Any) -> dict[str, Any]:
    metadata = _get(obj, "metadata") or {}
    return dict(metadata if isinstance(metadata, dict) else metadata.to_dict())


def _decline_message(code: str | None) -> str:
    return DECLINE_MESSAGES.get(code or "", DEFAULT_DECLINE)


def init_app(app: Flask) -> None:
    """Put the gateway on the app: real Stripe by keys alone, localstripe when STRIPE_API_BASE is set."""
    app.extensions["stripe_gateway"] = StripeGateway(
        app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"],
        api_base=app.config.get("STRIPE_API_BASE", ""), publishable_key=app.config.get("STRIPE_PUBLISHABLE_KEY", ""),
    )


def gateway() -> StripeGateway:
    return current_app.extensions["stripe_gateway"]
