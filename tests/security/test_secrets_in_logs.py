"""Secret links stay out of the logs: the request log redacts order and e-receipt tokens (in the path
and in query strings), and buyer e-mails — which carry the order link — are never logged, only saved
to a file locally or sent by SMTP."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from pathlib import Path

import pytest

from core.logging import JsonFormatter
from core.request_log import logger as request_logger
from core.request_log import redacted_path, redacted_query
from tests.factories.payouts import product, sell, shop
from tests.factories.shop import ShopProductFactory
from tests.shop.helpers import place_order


@pytest.fixture
def request_log(app, monkeypatch, caplog):
    """The request log switched on (as in production) and captured."""
    monkeypatch.setitem(app.config, "REQUEST_LOG", True)
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    yield caplog
    request_logger.removeHandler(caplog.handler)


def _logged(caplog) -> str:
    """The log lines as production writes them (core/logging.py: one JSON object each)."""
    return "\n".join(JsonFormatter().format(record) for record in caplog.records)


def test_order_and_receipt_tokens_are_redacted_in_the_request_log(client, csrf, request_log):
    s = shop()
    sale = sell(s, [(product(s.sentra), 1)])
    order = place_order(client, csrf, [(ShopProductFactory(stock=2, price=45_000), 1)])
    paths = [f"/pos/struk/{sale.receipt_token}", f"/pesanan/{order.token}", f"/pesanan/{order.token}/faktur.pdf",
             f"/pesanan/{order.token}/kembali?payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_XYZ",
             f"/pesanan/{order.token}/tidak-ada", "/pos/struk/bukan-token-yang-ada-sama-sekali?token=abc123secret"]
    for path in paths:
        client.get(path)
    text = _logged(request_log)
    assert text.count('"path": "/pesanan/<redacted>') >= 4 and '"path": "/pos/struk/<redacted>"' in text
    for secret in (order.token, sale.receipt_token, "pi_1_secret_XYZ", "abc123secret", "bukan-token-yang-ada"):
        assert secret not in text
    # Still useful: method, status and the non-secret query values are there.
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(entry["query"].startswith("payment_intent=pi_1&") for entry in lines)


@pytest.mark.parametrize("path, view_args, expected", [
    ("/pesanan/abc/faktur.pdf", {"token": "abc"}, "/pesanan/<redacted>/faktur.pdf"),
    ("/pesanan/xyz", None, "/pesanan/<redacted>"),
    ("/pos/struk/xyz", None, "/pos/struk/<redacted>"),
    ("/staf/pesanan/12", {"fulfilment_id": 12}, "/staf/pesanan/12"),
    ("/katalog", None, "/katalog"),
])
def test_redacted_path_hides_only_secret_segments(path, view_args, expected):
    assert redacted_path(path, view_args) == expected


def test_redacted_query_hides_secret_values():
    from werkzeug.datastructures import MultiDict

    query = redacted_query(MultiDict([("q", "batik"), ("token", "t0k"), ("payment_intent_client_secret", "s3c")]))
    assert query == "q=batik&token=<redacted>&payment_intent_client_secret=<redacted>"


def test_buyer_email_is_saved_to_a_file_locally_and_its_body_never_logged(client, csrf, app, tmp_path,
                                                                          monkeypatch, caplog, run_jobs):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    caplog.set_level(logging.INFO)
    order = place_order(client, csrf, [(ShopProductFactory(stock=1, price=45_000, name="Kipas Lontar"), 1)])
    run_jobs()
    text = _logged(caplog)
    assert order.token not in text and "Kipas Lontar" not in text and "sari@contoh.co.id" not in text
    assert f"Pesanan {order.number} diterima" in text and "saved to file" in text
    files = list(Path(tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "sari@contoh.co.id" and order.number in message["Subject"]
    assert f"/pesanan/{order.token}" in message.get_body(("plain",)).get_content()
    assert f'href="http://127.0.0.1:5000/pesanan/{order.token}"' in message.get_body(("html",)).get_content()


def test_in_production_without_a_mail_server_nothing_of_the_body_is_logged_or_written(client, csrf, app, tmp_path,
                                                                                    monkeypatch, caplog, run_jobs):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_DIR", "")  # ProductionConfig
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO)
    order = place_order(client, csrf, [(ShopProductFactory(stock=1, price=45_000, name="Kipas Lontar"), 1)])
    run_jobs()
    text = _logged(caplog)
    assert order.token not in text and "Kipas Lontar" not in text and "not sent" in text
    assert not list(tmp_path.rglob("*.eml"))


def test_production_config_writes_no_mail_files_unless_told_to():
    import os

    from config import Config, ProductionConfig

    assert os.environ.get("MAIL_DIR", "") == ProductionConfig.MAIL_DIR
    assert os.environ.get("MAIL_DIR", str(Path(Config.INSTANCE_DIR) / "mail")) == Config.MAIL_DIR
