"""Every logger writes one JSON object per line, stamped with the request id or the job id."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logging import JsonFormatter, WorkContextFilter


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(WorkContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # as in production (the migrations' alembic.ini lowers it in the test session)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_line_logged_during_a_request_carries_its_request_id(app, json_lines):
    with app.test_request_context("/katalog", headers={"X-Request-ID": "kasir-report-0042"}):
        app.preprocess_request()
        logging.getLogger("inventory.anything").warning("stok %s habis", "Batik Ciprat")
    [line] = [entry for entry in json_lines() if entry["logger"] == "inventory.anything"]
    assert line["request_id"] == "kasir-report-0042" and line["message"] == "stok Batik Ciprat habis"
    assert line["level"] == "WARNING" and "time" in line


def test_a_line_logged_by_a_job_carries_its_job_id(json_lines, run_jobs):
    from core.extensions import db
    from core.jobs import enqueue

    job = enqueue("mail.deliver", to="budi@contoh.co.id", subject="Uji log", body="rahasia", message_id="<x@y>",
                  date="Fri, 04 Dec 2026 10:00:00 +0000")
    db.session.commit()
    run_jobs()
    mail_lines = [entry for entry in json_lines() if entry["logger"] == "sentra.mail"]
    assert mail_lines and all(entry["job_id"] == job.id for entry in mail_lines)
    assert all("rahasia" not in json.dumps(entry) for entry in json_lines())


def test_extra_fields_and_exceptions_are_part_of_the_object(json_lines):
    log = logging.getLogger("sentra.test")
    log.error("gagal", extra={"fields": {"sale": "POS-1"}})
    try:
        raise ValueError("rusak")
    except ValueError:
        log.exception("dengan jejak")
    first, second = [entry for entry in json_lines() if entry["logger"] == "sentra.test"]
    assert first["sale"] == "POS-1" and "ValueError: rusak" in second["exception"]
