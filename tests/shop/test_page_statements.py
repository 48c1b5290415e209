"""Shop pages read their products, photos, stock and makers with a fixed number of statements,
whatever the page size: counted with 3 products and with 30 (a full page of 24 and more), never timed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.extensions import db
from core.files import store_file
from inventory.models import ProductPhoto
from makers.models import Consent, ConsentGiver, ConsentPurpose, Maker, MakerGroup
from sentras.models import Sentra
from tests.factories import MakerFactory, MakerGroupFactory, SentraFactory, UserFactory
from tests.factories.shop import ShopProductFactory, TicketFactory

#: the most statements any of these pages may need: one for the page of products (with their
#: Sentra, stock, first photo and the total), and the page's own (the filter choices; the Sentra;
#: the maker, their consents and Sentra); a misspelt search on PostgreSQL looks twice
MOST = 4


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # the test's transaction
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


class Shelf:
    """Products spread over two Sentras, consenting and anonymous makers and a KUBE group, each
    with two photos; some goods sold out, one ticket."""

    def __init__(self) -> None:
        self.sentras = [SentraFactory(city="Temanggung", province="Jawa Tengah"),
                        SentraFactory(city="Gowa", province="Sulawesi Selatan")]
        admin = UserFactory(role=Role.ADMIN)
        self.makers = [MakerFactory(sentra=s) for s in self.sentras for _ in range(2)]
        for maker in self.makers[::2]:
            db.session.add(Consent(maker=maker, purpose=ConsentPurpose.SHOP_NAME, given_by=ConsentGiver.MAKER,
                                   given_by_name=maker.name, recorded_by_id=admin.id))
        group = MakerGroupFactory(sentra=self.sentras[0])
        db.session.commit()
        self.sentra_code, self.maker_id = self.sentras[0].code, self.makers[0].id
        self.ids = ([s.id for s in self.sentras], [m.id for m in self.makers], group.id)
        self.count = 0

    def fill(self, total: int) -> None:
        sentras = [db.session.get(Sentra, i) for i in self.ids[0]]
        makers = [db.session.get(Maker, i) for i in self.ids[1]]
        group = db.session.get(MakerGroup, self.ids[2])
        while self.count < total:
            n = self.count
            maker = makers[n % len(makers)]
            if n == 1:
                product = TicketFactory(sentra=sentras[0], maker=maker, name=f"Tiket Batik {n}")
            elif n % 5 == 2:
                product = ShopProductFactory(sentra=sentras[0], maker=None, group=group,
                                             name=f"Kain Batik KUBE {n}", stock=2)
            else:
                product = ShopProductFactory(sentra=maker.sentra, maker=maker, name=f"Kemeja Batik {n}",
                                             category="Batik" if n % 2 else "Kerajinan", price=50_000 + n * 1_000,
                                             stock=n % 3)
            for position in range(2):
                full = store_file(f"full {n} {position}".encode(), "image/webp")
                thumb = store_file(f"thumb {n} {position}".encode(), "image/webp")
                db.session.add(ProductPhoto(product_id=product.id, file_sha256=full.sha256,
                                            thumb_sha256=thumb.sha256, position=position))
            db.session.commit()
            self.count += 1


def page_statements(client, url: str) -> list[str]:
    db.session.expunge_all()  # nothing from the set-up in the identity map: every read is counted
    with counted() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return statements


PAGES = {
    "home": lambda shelf: "/",
    "catalogue": lambda shelf: "/katalog",
    "category": lambda shelf: "/katalog?kategori=Batik",
    "filter": lambda shelf: "/katalog?provinsi=Jawa+Tengah&harga_min=10rb&harga_max=900rb&tersedia=1&urut=harga_naik",
    "search": lambda shelf: "/katalog?q=batik",
    "search-any-order": lambda shelf: "/katalog?q=batik+kemeja",
    "search-misspelt": lambda shelf: "/katalog?q=kemeja+batk",
    "sentra": lambda shelf: f"/sentra/{shelf.sentra_code}",
    "maker": lambda shelf: f"/pembuat/{shelf.maker_id}",
}


@pytest.mark.parametrize("kind", PAGES)
def test_a_shop_page_needs_the_same_few_statements_for_3_or_30_products(client, db_backend, kind):
    shelf = Shelf()
    shelf.fill(3)
    url = PAGES[kind](shelf)
    small = page_statements(client, url)
    shelf.fill(30)
    large = page_statements(client, url)
    finds = kind != "search-misspelt" or db_backend == "postgresql"  # SQLite has no trigram index
    assert ("product-card" in client.get(url).get_data(as_text=True)) == finds
    assert len(large) == len(small), "\n".join(large)
    assert len(large) <= MOST, "\n".join(large)
    assert not [s for s in large if "stored_files" in s]  # photo bytes are never read for a page
