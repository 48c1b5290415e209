"""core.unit_of_work: every request (and CLI command) commits once or rolls back as a whole."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages, redirect

from app import create_app
from config import TestConfig
from core.alerts import StaffAlert, raise_alert
from core.errors import Conflict, ValidationFailed
from core.extensions import db
from core.unit_of_work import (
    after_commit,
    commit_before_refusal,
    commit_now,
    refusals_flashed,
    rollback_now,
    transactional,
)

sent: list[str] = []


def _write(key: str) -> None:
    raise_alert("test.uow", f"alert {key}", key=key)  # adds and flushes, as a service does


@pytest.fixture(scope="module")
def uow_app(database_url):
    """An app of its own, with routes that exercise each rule (the shared app is already serving)."""
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/ok")
    def ok():
        _write("ok")
        after_commit(lambda: sent.append("ok"))
        return "ok"

    @app.get("/side-effect-fails")
    def side_effect_fails():
        _write("side-effect")

        def failing_mail() -> None:
            raise OSError("instance/mail is not writable")

        after_commit(failing_mail)
        after_commit(lambda: sent.append("after the failure"))
        return "ok"

    @app.get("/redirect")
    def redirected():
        _write("redirect")
        return redirect("/ok")

    @app.get("/boom")
    def boom():
        _write("boom")
        after_commit(lambda: sent.append("boom"))
        raise RuntimeError("boom")

    @app.get("/refused")
    def refused():
        _write("refused")
        after_commit(lambda: sent.append("refused"))
        return "no", 422

    @app.get("/domain")
    @app.get("/api/domain")
    def domain():
        _write("domain")
        raise Conflict("Stok habis untuk barang ini.")

    @app.get("/kept")
    def kept():
        _write("counted")  # a failed attempt: kept although the answer is a refusal
        commit_before_refusal()
        _write("after-refusal")
        after_commit(lambda: sent.append("kept"))
        return "too many", 429

    @app.get("/flashed")
    def flashed():
        with refusals_flashed(per_field=True):
            _write("flashed")
            after_commit(lambda: sent.append("flashed"))
            raise ValidationFailed({"qty": "Jumlah salah.", "note": "Catatan terlalu panjang."})
        return redirect("/ok")

    @app.get("/side-effect")
    def side_effect():
        _write("before-stripe")
        commit_now()  # on record before the (pretend) Stripe call
        _write("after-stripe")
        raise RuntimeError("the process died after Stripe answered")

    @app.get("/discarded")
    def discarded():
        _write("discarded")
        rollback_now()
        _write("after-discard")
        return redirect("/ok")

    from core.unit_of_work import init_app

    init_app(app)  # the routes above were added after create_app wrapped the others
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def uow_client(uow_app):
    sent.clear()
    with uow_app.app_context():
        yield uow_app.test_client()
        db.session.remove()


def saved() -> list[str]:
    """The alert keys committed to the database (read on a connection of its own)."""
    with db.engine.connect() as conn:
        return list(conn.scalars(sa.select(StaffAlert.key).order_by(StaffAlert.id)))


def test_a_successful_request_commits_once_then_runs_after_commit_callbacks(uow_client):
    assert uow_client.get("/ok").status_code == 200
    assert saved() == ["ok"]
    assert sent == ["ok"]


def test_a_failing_after_commit_callback_keeps_the_committed_answer(uow_client):
    response = uow_client.get("/side-effect-fails")
    assert response.status_code == 200
    assert saved() == ["side-effect"]
    assert sent == ["after the failure"]


def test_a_redirect_is_a_success(uow_client):
    assert uow_client.get("/redirect").status_code == 302
    assert saved() == ["redirect"]


def test_an_exception_rolls_back_and_drops_the_callbacks(uow_client):
    response = uow_client.get("/boom")
    assert response.status_code == 500
    assert saved() == []
    assert sent == []


def test_an_error_status_rolls_back_and_drops_the_callbacks(uow_client):
    assert uow_client.get("/refused").status_code == 422
    assert saved() == []
    assert sent == []


def test_a_domain_error_is_problem_json_with_nothing_written(uow_client):
    response = uow_client.get("/api/domain")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Stok habis untuk barang ini."
    assert saved() == []


def test_a_domain_error_is_an_error_page_with_nothing_written(uow_client):
    response = uow_client.get("/domain", headers={"Accept": "text/html"})
    assert response.status_code == 409
    assert "Stok habis untuk barang ini." in response.get_data(as_text=True)
    assert saved() == []


def test_commit_before_refusal_keeps_what_came_before_and_nothing_after(uow_client):
    assert uow_client.get("/kept").status_code == 429
    assert saved() == ["counted"]
    assert sent == []


def test_refusals_flashed_rolls_back_and_flashes_each_message(uow_client):
    response = uow_client.get("/flashed")
    assert response.status_code == 302
    assert saved() == []
    assert sent == []
    with uow_client.session_transaction() as sess:
        messages = [text for _category, text in sess.get("_flashes", [])]
    assert messages == ["Jumlah salah.", "Catatan terlalu panjang."]


def test_commit_now_keeps_the_record_a_side_effect_follows(uow_client):
    assert uow_client.get("/side-effect").status_code == 500
    assert saved() == ["before-stripe"]


def test_rollback_now_discards_the_rest_of_the_unit(uow_client):
    assert uow_client.get("/discarded").status_code == 302
    assert saved() == []


def test_a_cli_command_or_job_commits_on_return_and_rolls_back_on_error(uow_app):
    with uow_app.app_context():
        def failing_job():
            _write("failed-job")
            raise RuntimeError("job failed")

        transactional(lambda: _write("job"))()
        with pytest.raises(RuntimeError):
            transactional(failing_job)()
        db.session.remove()
    assert saved() == ["job"]


def test_after_commit_outside_a_unit_runs_at_once(uow_app):
    with uow_app.app_context():
        after_commit(lambda: sent.append("now"))
    assert sent[-1] == "now"


def test_every_view_of_the_app_is_a_unit_of_work(app):
    unwrapped = [name for name, view in app.view_functions.items()
                 if name != "static" and not getattr(view, "__unit_of_work__", False)]
    assert unwrapped == []


def test_the_flash_helper_is_silent_when_nothing_is_refused(uow_app):
    with uow_app.test_request_context():
        with refusals_flashed():
            pass
        assert get_flashed_messages() == []
