"""Demo products with generated photos, and consignment intakes.

Idempotent: products are looked up by SKU, intakes by a fixed client key. Runs after
`accounts.demo` (it acts as the demo admin) and `makers.demo` (the owners).
"""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from core.extensions import db
from inventory import services
from inventory.models import ConsignmentIntake, Product, ProductPhoto
from makers.models import Maker, MakerGroup
from sentras.models import Sentra

ADMIN_EMAIL = "admin@sentra.test"


# (SKU, owner name, name, category, kind, price, split, intake qty)
# split: ("p", bps, material_cost) or ("f", maker_price, material_cost)
PRODUCTS = [
    # Kartini Temanggung: batik ciprat and crafts by makers with disabilities
    ("TMG-BTK-001", "Sri Rahayu", "Batik Ciprat Bunga Kopi 2 m", "Batik", "goods", 150_000, ("p", 8000, 20_000), 20),
    ("TMG-BTK-002", "Sri Rahayu", "Batik Ciprat Merah Marun 2 m", "Batik", "goods", 150_000, ("p", 8000, 20_000), 15),
    ("TMG-BTK-003", "Sri Rahayu", "Selendang Ciprat Biru", "Batik", "goods", 85_000, ("f", 60_000, 0), 12),
    ("TMG-BTK-004", "Wahyu Nugroho", "Batik Ciprat Hijau Daun 2 m", "Batik", "goods", 165_000, ("p", 8000, 25_000), 10),
    ("TMG-BTK-005", "Wahyu Nugroho", "Kemeja Batik Ciprat Pria", "Busana", "goods", 225_000, ("p", 7000, 60_000), 8),
    ("TMG-BTK-006", "Wahyu Nugroho", "Masker Batik Ciprat", "Aksesori", "goods", 15_000, ("f", 10_000, 0), 40),
    ("TMG-BTK-007", "KUBE Ciprat Lestari", "Kain Batik Ciprat KUBE Lestari", "Batik", "goods", 175_000,
     ("p", 8000, 25_000), 25),
    ("TMG-BTK-008", "KUBE Ciprat Lestari", "Tas Jinjing Batik Ciprat", "Tas", "goods", 95_000, ("p", 7500, 20_000), 15),
    ("TMG-BTK-009", "KUBE Ciprat Lestari", "Taplak Meja Batik Ciprat", "Batik", "goods", 120_000,
     ("p", 8000, 20_000), 10),
    ("TMG-BTK-010", "KUBE Ciprat Lestari", "Sarung Bantal Batik Ciprat", "Batik", "goods", 55_000,
     ("f", 40_000, 0), 20),
    ("TMG-KRJ-011", "Dimas Pratama", "Gantungan Kunci Kayu Lukis", "Kerajinan", "goods", 12_000, ("p", 9000, 0), 30),
    ("TMG-KRJ-012", "Dimas Pratama", "Pembatas Buku Batik", "Kerajinan", "goods", 8_000, ("p", 9000, 0), 30),
    ("TMG-KRJ-013", "Tri Handayani", "Dompet Batik Ciprat", "Aksesori", "goods", 35_000, ("p", 8000, 5_000), 18),
    ("TMG-KRJ-014", "Siti Aminah", "Syal Batik Ciprat Ungu", "Aksesori", "goods", 65_000, ("p", 8000, 10_000), 12),
    # Pangudi Luhur Bekasi: kuliner, fishing pond and agro-tourism tickets, souvenirs
    ("BKS-KLN-001", "Bambang Setiawan", "Nasi Liwet Komplit", "Kuliner", "service", 25_000, ("p", 4000, 10_000), 0),
    ("BKS-KLN-002", "Bambang Setiawan", "Es Kopi Susu Gula Aren", "Kuliner", "service", 18_000, ("p", 4000, 6_000), 0),
    ("BKS-KLN-003", "Bambang Setiawan", "Pisang Goreng Madu", "Kuliner", "service", 12_000, ("p", 4000, 4_000), 0),
    ("BKS-KLN-004", "Bambang Setiawan", "Keripik Singkong Balado 250 g", "Kuliner", "goods", 20_000,
     ("p", 6000, 6_000), 40),
    ("BKS-KLM-005", "Hendra Gunawan", "Tiket Kolam Pemancingan (2 jam)", "Tiket", "service", 30_000,
     ("p", 3000, 0), 0),
    ("BKS-KLM-006", "Hendra Gunawan", "Tiket Kolam Pemancingan Harian", "Tiket", "service", 50_000, ("p", 3000, 0), 0),
    ("BKS-KLM-007", "Hendra Gunawan", "Sewa Joran Pancing", "Tiket", "service", 10_000, ("p", 5000, 0), 0),
    ("BKS-AGR-008", "Ratna Sari", "Tiket Agrowisata Kebun Sayur", "Tiket", "service", 15_000, ("p", 3000, 0), 0),
    ("BKS-AGR-009", "Ratna Sari", "Paket Petik Sayur Keluarga", "Tiket", "service", 45_000, ("p", 4000, 10_000), 0),
    ("BKS-AGR-010", "Ratna Sari", "Bibit Cabai dalam Polybag", "Agro", "goods", 7_500, ("p", 7000, 2_000), 50),
    ("BKS-SVN-011", "Yuni Astuti", "Gantungan Kunci Ikan Mas", "Suvenir", "goods", 10_000, ("p", 8000, 2_000), 40),
    ("BKS-SVN-012", "Yuni Astuti", "Tas Anyaman Plastik Daur Ulang", "Suvenir", "goods", 45_000,
     ("p", 8000, 8_000), 15),
    ("BKS-SVN-013", "Yuni Astuti", "Tempat Tisu Anyaman", "Suvenir", "goods", 30_000, ("f", 22_000, 0), 12),
    ("BKS-SVN-014", "Hendra Gunawan", "Kaos Sablon Pangudi Luhur", "Suvenir", "goods", 75_000, ("p", 6000, 35_000), 20),
    # Mulya Jaya Jakarta: crafts
    ("JKT-KRJ-001", "Maria Ulfa", "Boneka Flanel Ondel-ondel", "Kerajinan", "goods", 55_000, ("p", 8000, 10_000), 15),
    ("JKT-KRJ-002", "Maria Ulfa", "Bros Kain Perca", "Aksesori", "goods", 15_000, ("p", 8000, 2_000), 30),
    ("JKT-KRJ-003", "Maria Ulfa", "Sarung Bantal Sulam Tangan", "Kerajinan", "goods", 85_000, ("p", 8000, 15_000), 10),
    ("JKT-KRJ-004", "Andi Saputra", "Lampu Hias Bambu", "Kerajinan", "goods", 120_000, ("p", 7500, 30_000), 6),
    ("JKT-KRJ-005", "Andi Saputra", "Miniatur Bajaj Kayu", "Kerajinan", "goods", 95_000, ("f", 70_000, 0), 8),
    ("JKT-KRJ-006", "Andi Saputra", "Tatakan Gelas Kayu (isi 4)", "Kerajinan", "goods", 40_000, ("p", 8000, 8_000), 20),
    # Gau Mabaji Gowa (WITA): weaving and lontar crafts
    ("MKS-TNN-001", "Nurhayati Daeng Sikki", "Sarung Sutra Tenun Gowa", "Tenun", "goods", 450_000,
     ("p", 8500, 120_000), 6),
    ("MKS-TNN-002", "Nurhayati Daeng Sikki", "Selendang Tenun Motif Bunga", "Tenun", "goods", 175_000,
     ("p", 8500, 40_000), 10),
    ("MKS-TNN-003", "Nurhayati Daeng Sikki", "Dompet Tenun Sutra", "Aksesori", "goods", 65_000,
     ("p", 8000, 15_000), 15),
    ("MKS-LTR-004", "Muhammad Arif", "Kipas Anyaman Lontar", "Kerajinan", "goods", 25_000, ("p", 8000, 3_000), 25),
    ("MKS-LTR-005", "Muhammad Arif", "Topi Lontar Pantai", "Kerajinan", "goods", 45_000, ("p", 8000, 8_000), 15),
    ("MKS-LTR-006", "Muhammad Arif", "Keranjang Lontar Serbaguna", "Kerajinan", "goods", 60_000, ("f", 45_000, 0), 10),
]

TILE_COLOURS = [(122, 46, 14), (11, 90, 138), (30, 107, 47), (120, 40, 120), (160, 90, 0), (40, 40, 110)]


def _admin() -> User:
    user = db.session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
    if user is None:
        raise RuntimeError("inventory.demo needs accounts.demo (the demo admin) to run first")
    return user


def _sentras() -> dict[str, Sentra]:
    return {s.code: s for s in db.session.scalars(sa.select(Sentra))}


def _maker(name: str) -> Maker | None:
    return db.session.scalar(sa.select(Maker).where(Maker.name == name))


def _loaded_maker(name: str) -> Maker:
    maker = _maker(name)
    assert maker is not None, f"demo maker {name} is loaded first"
    return maker


def _owner(name: str) -> tuple[Maker | None, MakerGroup | None]:
    group = db.session.scalar(sa.select(MakerGroup).where(MakerGroup.name == name))
    return (None, group) if group is not None else (_maker(name), None)


def _tile(name: str, index: int) -> bytes:
    """A coloured square with the product's initials: enough to see photos in the shop and POS."""
    initials = "".join(word[0] for word in name.split() if word[0].isalpha())[:2].upper()
    image = Image.new("RGB", (600, 600), TILE_COLOURS[index % len(TILE_COLOURS)])
    draw = ImageDraw.Draw(image)
    assert current_app.static_folder is not None
    font_path = Path(current_app.static_folder) / "fonts" / "DejaVuSans-Bold.ttf"
    font = ImageFont.truetype(str(font_path), 220)
    draw.text((300, 280), initials, font=font, fill=(255, 255, 255), anchor="mm")
    small = ImageFont.truetype(str(font_path), 34)
    draw.text((300, 520), name[:28], font=small, fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def load_products() -> int:
    admin, sentras, created = _admin(), _sentras(), 0
    for index, (sku, owner_name, name, category, kind, price, split, _qty) in enumerate(PRODUCTS):
        sentra = sentras.get(sku[:3])
        maker, group = _owner(owner_name)
        if sentra is None or (maker is None and group is None):
            continue
        product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
        if product is None:
            mode, amount, material = split
            product = services.create_product(admin, {
                "sentra_id": sentra.id, "sku": sku, "barcode": "", "name": name, "category": category, "kind": kind,
                "description": f"{name} — karya penerima manfaat {sentra.name}.", "price": price,
                "maker_id": maker.id if maker else None, "group_id": group.id if group else None,
                "split_mode": "percent" if mode == "p" else "fixed",
                "maker_share_bps": amount if mode == "p" else 0, "maker_price": amount if mode == "f" else 0,
                "material_cost": material, "daily_capacity": 100 if category == "Tiket" else None,
                "is_published": True})
            created += 1
        if not db.session.scalar(sa.select(ProductPhoto.id).where(ProductPhoto.product_id == product.id)):
            services.add_product_photo(admin, product, _tile(name, index))
    db.session.flush()
    return created


def load_intakes() -> int:
    admin, created = _admin(), 0
    by_owner: dict[str, list[tuple[Product, int]]] = {}
    for sku, owner_name, *_rest, qty in PRODUCTS:
        product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
        if product is not None and qty > 0:
            by_owner.setdefault(owner_name, []).append((product, qty))
    for owner_name, items in by_owner.items():
        maker, group = _owner(owner_name)
        owner = maker or group
        assert owner is not None  # the demo makers and group are loaded first
        key = f"demo-intake-{items[0][0].sku}"
        if db.session.scalar(sa.select(ConsignmentIntake.id).where(ConsignmentIntake.client_key == key)):
            continue
        services.receive_consignment(admin, owner.sentra, owner, items, key, note="Titipan awal (data demo)")
        created += 1
    return created


LOADERS = [
    ("products", load_products),
    ("consignment intakes", load_intakes),
]
