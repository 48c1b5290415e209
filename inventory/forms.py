"""Product, photo, intake and stock forms: shape only (types, required fields, money parsing)."""

from __future__ import annotations

import re
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.forms import RequiredStringField, RupiahField
from inventory.models import ProductKind, SplitMode


def parse_percent_bps(text: str) -> int:
    """"80" → 8000, "72,5" or "72.5" → 7250 (basis points); ValueError on anything else."""
    raw = (text or "").strip().replace("%", "").strip()
    match = re.fullmatch(r"(\d{1,3})(?:[.,](\d{1,2}))?", raw)
    if not match:
        raise ValueError("Tulis persen sebagai angka, misalnya 80 atau 72,5.")
    whole, frac = match.groups()
    bps = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if bps > 10000:
        raise ValueError("Bagian pembuat tidak boleh lebih dari 100%.")
    return bps


def format_bps(bps: int) -> str:
    whole, frac = divmod(bps, 100)
    return f"{whole}" if not frac else f"{whole},{frac:02d}".rstrip("0")


def new_client_key() -> str:
    return str(uuid.uuid4())


class ClientKeyForm(FlaskForm):
    #: idempotency key generated when the form is shown; a double submit replays the first result
    client_key = HiddenField()

    def ensure_client_key(self) -> None:
        if not self.client_key.data:
            self.client_key.data = new_client_key()


class ProductForm(FlaskForm):
    sentra_id = SelectField(_l("Sentra"), coerce=int, validate_choice=False)
    sku = RequiredStringField(_l("SKU"), validators=[DataRequired(_l("SKU wajib diisi.")), Length(max=40)])
    barcode = StringField(_l("Barcode EAN-13"), validators=[Optional(), Length(max=20)],
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
    name = RequiredStringField(_l("Nama produk"), validators=[DataRequired(_l("Nama produk wajib diisi.")),
                                                              Length(max=160)])
    description = TextAreaField(_l("Deskripsi"), validators=[Optional()])
    category = RequiredStringField(_l("Kategori"),
                                   validators=[DataRequired(_l("Kategori wajib diisi.")), Length(max=60)])
    kind = SelectField(_l("Jenis"), choices=[(ProductKind.GOODS.value, _l("Barang (pakai stok)")),
                                             (ProductKind.SERVICE.value, _l("Layanan / tiket (tanpa stok)"))])
    price = RupiahField(_l("Harga jual"))
    owner = SelectField(_l("Pembuat atau kelompok"), validate_choice=False)
    split_mode = SelectField(_l("Cara bagi hasil"), choices=[
        (SplitMode.PERCENT.value, _l("Persentase untuk pembuat")),
        (SplitMode.FIXED.value, _l("Harga tetap per barang untuk pembuat"))])
    maker_share = StringField(_l("Bagian pembuat (%)"), default="80", render_kw={"inputmode": "decimal"})
    maker_price = RupiahField(_l("Harga untuk pembuat per barang"), required=False)
    material_cost = RupiahField(_l("Biaya bahan per barang (dikembalikan ke Sentra dulu)"), required=False)
    daily_capacity = StringField(_l("Kapasitas harian (layanan/tiket, kosong = tanpa batas)"),
                                 validators=[Optional()], render_kw={"inputmode": "numeric"})
    is_published = BooleanField(_l("Tampilkan di toko online"))

    maker_share_bps: int | None = None

    def validate_maker_share(self, field):
        self.maker_share_bps = None
        if self.split_mode.data != SplitMode.PERCENT.value:
            return
        try:
            self.maker_share_bps = parse_percent_bps(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_daily_capacity(self, field):
        if field.data and not re.fullmatch(r"\d{1,6}", field.data.strip()):
            raise ValidationError(_l("Kapasitas harian harus bilangan bulat."))


class IntakeLineForm(Form):
    product_id = SelectField(_l("Produk"), validate_choice=False)
    qty = StringField(_l("Jumlah"), render_kw={"inputmode": "numeric"})


class IntakeForm(ClientKeyForm):
    owner = SelectField(_l("Pembuat atau kelompok yang menitipkan"), validate_choice=False)
    lines = FieldList(FormField(IntakeLineForm), min_entries=8, max_entries=40)
    note = StringField(_l("Catatan"), validators=[Optional(), Length(max=200)])


class AdjustForm(ClientKeyForm):
    product_id = SelectField(_l("Produk"), validate_choice=False)
    counted_qty = StringField(_l("Jumlah hasil hitung (opname)"), validators=[InputRequired(_l("Wajib diisi."))],
                              render_kw={"inputmode": "numeric"})
    reason = StringField(_l("Alasan"), validators=[Length(max=200)])
    is_discrepancy = BooleanField(_l("Tandai sebagai selisih (perlu ditinjau)"))


class TransferForm(ClientKeyForm):
    product_id = SelectField(_l("Produk"), validate_choice=False)
    to_sentra_id = SelectField(_l("Sentra tujuan"), validate_choice=False)
    qty = StringField(_l("Jumlah"), validators=[InputRequired(_l("Wajib diisi."))], render_kw={"inputmode": "numeric"})
    reason = StringField(_l("Keterangan"), validators=[Optional(), Length(max=200)])
