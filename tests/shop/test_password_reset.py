"""A buyer who forgot the password gets a link by e-mail that works for an hour, once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from core.db import utcnow
from core.extensions import db
from core.jobs.models import Job
from shop.services import register_buyer

PASSWORD = "Kopi-tubruk-Temanggung-88"


def _reset_link() -> str:
    job = db.session.scalars(sa.select(Job).where(Job.name == "mail.deliver").order_by(Job.id.desc())).first()
    assert job is not None and job.payload["to"] == "rina@contoh.co.id"
    return next(word for word in job.payload["body"].split() if "/akun/sandi-baru/" in word)


def _request_link(client, csrf, email="rina@contoh.co.id"):
    return client.post("/akun/lupa-sandi", data={"csrf_token": csrf(), "email": email})


def test_a_buyer_resets_the_password_by_the_mailed_link_once(client, csrf):
    register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    answer = _request_link(client, csrf)
    assert answer.status_code == 302
    path = _reset_link().removeprefix("http://127.0.0.1:5000")
    assert client.get(path).status_code == 200
    new = "Teh-poci-Slawi-2026-baru"
    assert client.post(path, data={"csrf_token": csrf(), "password": new, "confirm": new}).status_code == 302
    login = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "rina@contoh.co.id", "password": new})
    assert login.status_code == 302
    used = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "sudah tidak berlaku" in used  # the link is spent


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, csrf):
    answer = _request_link(client, csrf, "tidak.ada@contoh.co.id")
    assert answer.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_link_older_than_an_hour_is_refused(client, csrf):
    register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    _request_link(client, csrf)
    path = _reset_link().removeprefix("http://127.0.0.1:5000")
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        assert "sudah tidak berlaku" in client.get(path, follow_redirects=True).get_data(as_text=True)


def test_a_weak_new_password_is_refused_and_the_old_one_still_works(client, csrf):
    register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    _request_link(client, csrf)
    path = _reset_link().removeprefix("http://127.0.0.1:5000")
    assert client.post(path, data={"csrf_token": csrf(), "password": "12345678", "confirm": "12345678"}
                       ).status_code == 422
    login = client.post("/akun/masuk", data={"csrf_token": csrf(), "email": "rina@contoh.co.id", "password": PASSWORD})
    assert login.status_code == 302


def test_asking_again_and_again_sends_one_mail_per_ten_minutes(client, csrf):
    register_buyer("Rina Wulandari", "rina@contoh.co.id", PASSWORD)
    db.session.commit()
    with time_machine.travel(utcnow().replace(minute=1, second=0), tick=False):  # inside one 10-minute slot
        for _ in range(3):
            _request_link(client, csrf)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
