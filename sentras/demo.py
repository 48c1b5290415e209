"""Demo Sentras from the field facts in DESIGN.md (plus one in WITA)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from sentras.models import Sentra

SENTRAS = [
    dict(code="TMG", name="Sentra Kreasi ATENSI Kartini Temanggung",
         balai='Balai Besar Disabilitas "Kartini" Temanggung', city="Temanggung", province="Jawa Tengah",
         timezone="Asia/Jakarta", address="Jl. Suwandi Suwardi Km. 1, Temanggung",
         opening_hours="Senin–Sabtu 08.00–16.00",
         about="Batik ciprat dan kerajinan karya penerima manfaat penyandang disabilitas.",
         receipt_header="SKA Kartini Temanggung", receipt_footer="Terima kasih. Hasil penjualan untuk pembuatnya."),
    dict(code="BKS", name="Sentra Kreasi ATENSI Pangudi Luhur Bekasi",
         balai='Balai Karya "Pangudi Luhur" Bekasi', city="Bekasi", province="Jawa Barat",
         timezone="Asia/Jakarta", address="Jl. H. Moeljadi Djojomartono No. 19, Bekasi",
         opening_hours="Setiap hari 08.00–17.00",
         about="Kafe kuliner, kolam pemancingan, agrowisata dan galeri suvenir.",
         receipt_header="SKA Pangudi Luhur Bekasi", receipt_footer="Terima kasih atas kunjungan Anda."),
    dict(code="JKT", name="Sentra Kreasi ATENSI Mulya Jaya Jakarta",
         balai='Balai "Mulya Jaya" Jakarta', city="Jakarta Timur", province="DKI Jakarta",
         timezone="Asia/Jakarta", address="Jl. Tat Twam Asi No. 47, Pasar Rebo, Jakarta Timur",
         opening_hours="Senin–Jumat 08.00–16.00",
         about="Kerajinan karya penerima manfaat korban perdagangan orang dan tuna sosial.",
         receipt_header="SKA Mulya Jaya Jakarta", receipt_footer="Terima kasih."),
    dict(code="MKS", name="Sentra Kreasi ATENSI Gau Mabaji Gowa",
         balai='Balai Besar "Gau Mabaji" Gowa', city="Gowa", province="Sulawesi Selatan",
         timezone="Asia/Makassar", address="Jl. Poros Malino Km. 7, Gowa",
         opening_hours="Senin–Sabtu 08.00–16.00 WITA",
         about="Tenun dan kerajinan lontar karya penerima manfaat.",
         receipt_header="SKA Gau Mabaji Gowa", receipt_footer="Terima kasih."),
]


def load_sentras() -> int:
    created = 0
    for data in SENTRAS:
        if db.session.scalar(sa.select(Sentra.id).where(Sentra.code == data["code"])) is None:
            db.session.add(Sentra(**data))
            created += 1
    db.session.flush()
    return created


LOADERS = [("sentras", load_sentras)]
