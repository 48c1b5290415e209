"""factory_boy factories for the core models. Other packages add theirs in sibling modules."""

from __future__ import annotations

import factory
from werkzeug.security import generate_password_hash

from accounts.models import Role, User
from core.extensions import db
from inventory.barcodes import ean13_from_number
from inventory.models import Product, ProductKind, SplitMode
from makers.models import Cluster, Maker, MakerGroup, MakerGroupMember, Program
from sentras.models import Sentra

TEST_PASSWORD = "Rahasia-12345"
TEST_PIN = "246810"
# Hash once: password hashing is deliberately slow.
_PASSWORD_HASH = generate_password_hash(TEST_PASSWORD)
_PIN_HASH = generate_password_hash(TEST_PIN)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session
        # Commit, so requests made by the test client (own session) see the rows.
        sqlalchemy_session_persistence = "commit"

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # Post-generation hooks (e.g. assigning Sentras) change the row after the first commit.
        if create:
            db.session.commit()


class SentraFactory(BaseFactory):
    class Meta:
        model = Sentra

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.Sequence(lambda n: f"Sentra Kreasi Uji {n}")
    balai = "Balai Uji"
    city = "Temanggung"
    province = "Jawa Tengah"
    timezone = "Asia/Jakarta"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"Pengguna {n}")
    role = Role.KASIR
    email = factory.Sequence(lambda n: f"user{n}@sentra.test")
    password_hash = _PASSWORD_HASH

    @factory.post_generation
    def sentras(self, create, extracted, **kwargs):
        if extracted:
            self.sentras = list(extracted)


class MakerFactory(BaseFactory):
    class Meta:
        model = Maker

    sentra = factory.SubFactory(SentraFactory)
    name = factory.Sequence(lambda n: f"Pembuat Lengkap {n}")
    public_name = factory.Sequence(lambda n: f"Bu Pembuat {n}")
    cluster = Cluster.DISABILITAS
    program = Program.ATENSI
    phone = factory.Sequence(lambda n: f"62812{n:08d}")


class MakerUserFactory(UserFactory):
    role = Role.MAKER
    email = None
    password_hash = None
    pin_hash = _PIN_HASH
    maker = factory.SubFactory(MakerFactory)
    phone = factory.SelfAttribute("maker.phone")


class MakerGroupFactory(BaseFactory):
    class Meta:
        model = MakerGroup

    sentra = factory.SubFactory(SentraFactory)
    name = factory.Sequence(lambda n: f"KUBE Uji {n}")


class MakerGroupMemberFactory(BaseFactory):
    class Meta:
        model = MakerGroupMember

    group = factory.SubFactory(MakerGroupFactory)
    maker = factory.SubFactory(MakerFactory)
    share_weight = 1


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    sentra = factory.SubFactory(SentraFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    barcode = factory.Sequence(lambda n: ean13_from_number(n))  # valid EAN-13, in-store prefix 2
    name = factory.Sequence(lambda n: f"Batik Ciprat {n}")
    category = "Batik"
    kind = ProductKind.GOODS
    price = 150_000
    maker = factory.SubFactory(MakerFactory, sentra=factory.SelfAttribute("..sentra"))
    split_mode = SplitMode.PERCENT
    maker_share_bps = 8_000
