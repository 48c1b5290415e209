"""Every manager and admin sets their own counter-approval PIN; the counter takes only that PIN —
never the login password typed in front of the kasir."""

from __future__ import annotations

import pytest

from accounts.models import Role
from core.errors import Forbidden
from core.extensions import db
from pos.services import WrongPin, approve_with_pin
from tests.factories import TEST_PASSWORD, TEST_PIN, SentraFactory, UserFactory


def test_the_counter_refuses_a_managers_login_password_as_the_approval_pin():
    sentra = SentraFactory()
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra])
    manager.set_pin(TEST_PIN)
    with pytest.raises(WrongPin):
        approve_with_pin(sentra.id, manager.id, TEST_PASSWORD)
    assert approve_with_pin(sentra.id, manager.id, TEST_PIN).id == manager.id


def test_a_manager_without_a_pin_is_told_to_make_one(client, login_as):
    sentra = SentraFactory()
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra], pin_hash=None)
    with pytest.raises(Forbidden, match="belum punya PIN persetujuan"):
        approve_with_pin(sentra.id, manager.id, TEST_PASSWORD)


def test_a_manager_sets_their_own_pin_with_their_password_and_the_counter_accepts_it(client, login_as, csrf):
    sentra = SentraFactory()
    manager = UserFactory(role=Role.MANAGER, sentras=[sentra], pin_hash=None)
    db.session.commit()
    login_as(manager)
    assert "belum punya PIN persetujuan" in client.get("/accounts/pin-persetujuan").get_data(as_text=True)
    wrong = client.post("/accounts/pin-persetujuan", data={"csrf_token": csrf(), "password": "salah",
                                                             "pin": "730519", "confirm": "730519"})
    assert wrong.status_code == 422 and "Kata sandi salah" in wrong.get_data(as_text=True)
    weak = client.post("/accounts/pin-persetujuan", data={"csrf_token": csrf(), "password": TEST_PASSWORD,
                                                            "pin": "123456", "confirm": "123456"})
    assert weak.status_code == 422
    done = client.post("/accounts/pin-persetujuan", data={"csrf_token": csrf(), "password": TEST_PASSWORD,
                                                            "pin": "730519", "confirm": "730519"})
    assert done.status_code == 302
    assert approve_with_pin(sentra.id, manager.id, "730519").id == manager.id


def test_a_kasir_has_no_approval_pin_page(client, login_as):
    login_as(UserFactory(role=Role.KASIR, sentras=[SentraFactory()]))
    assert client.get("/accounts/pin-persetujuan").status_code in (403, 404)
