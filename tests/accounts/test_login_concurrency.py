"""Concurrent wrong guesses never get more checks of the secret than the throttle allows.

Each thread has its own app context and session and commits for real (file SQLite: BEGIN
IMMEDIATE serialises writers; PostgreSQL: the claimed throttle row stays locked until commit).
The secret checks are counted by wrapping `User.check_password` / `User.check_pin`.
"""

import threading

import pytest
import sqlalchemy as sa

from accounts.models import LoginThrottle, User
from accounts.services import authenticate_maker, authenticate_staff
from core.alerts import StaffAlert
from core.errors import DomainError
from core.extensions import db
from tests.factories import MakerUserFactory, SentraFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.committed]  # threads share the data

GUESSES = 40


def run_concurrently(app, attempt, n: int = GUESSES) -> list[int]:
    """Run `attempt(i)` in n threads at once; the statuses of the DomainErrors they raised."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                try:
                    attempt(i)
                except DomainError as error:
                    with lock:
                        statuses.append(error.status)
                db.session.commit()  # failures are kept, as the login views do
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return statuses


def count_checks(monkeypatch, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(User, name)
    lock = threading.Lock()

    def counted(self, secret):
        with lock:
            calls.append(1)
        return original(self, secret)

    monkeypatch.setattr(User, name, counted)
    return calls


def test_concurrent_wrong_passwords_get_no_more_checks_than_the_free_failures(app, monkeypatch):
    UserFactory(email="budi@sentra.test", sentras=[SentraFactory()])
    db.session.close()
    checks = count_checks(monkeypatch, "check_password")

    statuses = run_concurrently(app, lambda i: authenticate_staff("budi@sentra.test", "Salah-sekali-99",
                                                                  "203.0.113.9"))

    free = app.config["LOGIN_FREE_FAILURES"]
    assert len(checks) == free  # every claim was counted: not one check more, and none lost
    assert sorted(statuses) == [401] * free + [429] * (GUESSES - free)
    failures = db.session.scalars(sa.select(LoginThrottle.failures)).all()
    assert failures == [free, free]  # the (account, address) gate and the account's gate


def test_concurrent_wrong_pins_from_many_addresses_never_pass_the_cap(app, monkeypatch):
    """The PIN cap holds across addresses even when the per-account delay would allow more."""
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 1000)  # only the cap limits here
    MakerUserFactory(phone="6281234567890", maker__phone="6281234567890")
    db.session.close()
    checks = count_checks(monkeypatch, "check_pin")

    statuses = run_concurrently(app, lambda i: authenticate_maker("0812 3456 7890", "975310",
                                                                  f"10.2.{i // 250}.{i % 250}"))

    cap = app.config["PIN_MAX_FAILURES"]
    assert len(checks) == cap
    assert sorted(statuses) == [401] * (cap - 1) + [403] * (GUESSES - cap + 1)
    assert db.session.scalar(sa.select(sa.func.count(StaffAlert.id))) == 1
