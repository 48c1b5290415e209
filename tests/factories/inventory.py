"""Factories for inventory tests: consents and staff of a given Sentra."""

from __future__ import annotations

import factory

from accounts.models import Role
from makers.models import Consent, ConsentGiver, ConsentPurpose
from tests.factories import BaseFactory, MakerFactory, UserFactory


class ConsentFactory(BaseFactory):
    class Meta:
        model = Consent

    maker = factory.SubFactory(MakerFactory)
    purpose = ConsentPurpose.RECEIPT_NAME
    given_by = ConsentGiver.MAKER
    given_by_name = factory.SelfAttribute("maker.name")
    recorded_by_id = factory.LazyFunction(lambda: UserFactory(role=Role.ADMIN).id)


def manager_of(*sentras):
    return UserFactory(role=Role.MANAGER, sentras=list(sentras))


def kasir_of(*sentras):
    return UserFactory(role=Role.KASIR, sentras=list(sentras))


def admin():
    return UserFactory(role=Role.ADMIN)
