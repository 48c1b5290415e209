"""The inventory demo data loads, is idempotent and has what the issue asks for."""

import importlib

import sqlalchemy as sa

from accounts.services import authenticate_maker
from core.extensions import db
from inventory.models import ConsignmentIntake, Product, ProductKind, StockLevel
from inventory.stock import movements_sum
from makers.demo import MAKER_LOGINS
from makers.models import Cluster, ConsentPurpose, Maker, MakerGroup, Program


def _counts():
    return [db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Maker, MakerGroup, Product, ConsignmentIntake)]


def test_demo_inventory_loads_idempotently(app):
    for module in ("sentras.demo", "accounts.demo", "makers.demo", "inventory.demo"):
        for _name, loader in importlib.import_module(module).LOADERS:
            loader()
    db.session.commit()
    first = _counts()
    for module in ("makers.demo", "inventory.demo"):
        for _name, loader in importlib.import_module(module).LOADERS:
            assert loader() == 0
    db.session.commit()
    assert _counts() == first

    makers = list(db.session.scalars(sa.select(Maker)))
    assert len(makers) >= 15
    assert {m.cluster for m in makers} == set(Cluster) and {m.program for m in makers} == set(Program)
    minor = next(m for m in makers if m.is_minor)
    assert minor.guardian_name and not any(minor.has_consent(p) for p in ConsentPurpose)
    assert sum(m.has_consent(ConsentPurpose.SHOP_NAME) for m in makers) >= 12
    group = db.session.scalar(sa.select(MakerGroup))
    assert len(group.members) == 4 and len({m.share_weight for m in group.members}) > 1

    products = list(db.session.scalars(sa.select(Product)))
    assert len(products) >= 40
    assert any(p.kind == ProductKind.SERVICE and p.sentra.code == "BKS" for p in products)
    assert all(p.photos for p in products)
    assert first[3] >= 10
    for level in db.session.scalars(sa.select(StockLevel)):
        assert level.qty == movements_sum(level.product_id, level.sentra_id) > 0

    for _name, phone, pin in MAKER_LOGINS:
        assert authenticate_maker(phone, pin, "127.0.0.1").maker_id is not None
