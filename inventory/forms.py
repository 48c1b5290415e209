"""Inventory forms: shape only (types, required fields, money parsing); rules live in services."""

from __future__ import annotations

import re
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.forms import RequiredStringField
from core.money import MoneyParseError, parse_rupiah
from inventory.models import (
    Cluster,
    ConsentGiver,
    ConsentPurpose,
    GroupKind,
    PayoutMethod,
    ProductKind,
    Program,
    SplitMode,
)
from inventory.services import TIMEZONES


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


class RupiahField(StringField):
    """Text as typed ("150.000", "150rb"); the parsed integer rupiah is in `.amount` after validation."""

    amount: int | None = None

    def __init__(self, *args, required: bool = True, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(*args, **kwargs)
        self.required = required

    def pre_validate(self, form):
        self.amount = None
        # A field missing from the POST keeps the edited object's value (an int): never crash on it.
        text = "" if self.data is None else str(self.data).strip()
        if not text:
            if self.required:
                raise ValidationError(_l("Wajib diisi."))
            self.amount = 0
            return
        try:
            self.amount = parse_rupiah(text)
        except MoneyParseError as error:
            raise ValidationError(str(error)) from None


class ClientKeyForm(FlaskForm):
    #: idempotency key generated when the form is shown; a double submit replays the first result
    client_key = HiddenField()

    def ensure_client_key(self) -> None:
        if not self.client_key.data:
            self.client_key.data = new_client_key()


class SentraForm(FlaskForm):
    code = RequiredStringField(_l("Kode (2–8 huruf kapital)"), validators=[DataRequired(_l("Kode wajib diisi.")),
                                                                           Length(max=8)])
    name = RequiredStringField(_l("Nama Sentra"), validators=[DataRequired(_l("Nama wajib diisi.")), Length(max=160)])
    balai = RequiredStringField(_l("Balai induk"), validators=[DataRequired(_l("Balai induk wajib diisi.")),
                                                                Length(max=160)])
    city = RequiredStringField(_l("Kota/kabupaten"), validators=[DataRequired(_l("Kota wajib diisi.")), Length(max=80)])
    province = RequiredStringField(_l("Provinsi"),
                                   validators=[DataRequired(_l("Provinsi wajib diisi.")), Length(max=80)])
    timezone = SelectField(_l("Zona waktu"), choices=[
        (TIMEZONES[0], "WIB (Asia/Jakarta)"), (TIMEZONES[1], "WITA (Asia/Makassar)"),
        (TIMEZONES[2], "WIT (Asia/Jayapura)")], validate_choice=False)
    address = TextAreaField(_l("Alamat"), validators=[Optional()])
    opening_hours = StringField(_l("Jam buka"), validators=[Optional(), Length(max=200)])
    about = TextAreaField(_l("Tentang Sentra"), validators=[Optional()])
    receipt_header = TextAreaField(_l("Kepala struk"), validators=[Optional()])
    receipt_footer = TextAreaField(_l("Kaki struk"), validators=[Optional()])
    tax_bps = StringField(_l("Pajak (basis poin, 0 = harga tanpa pajak)"), default="0")
    hold_days = StringField(_l("Masa tahan pendapatan (hari)"), default="7")
    shipping_fee = RupiahField(_l("Ongkos kirim pesanan online"), required=False, default="0")
    is_active = BooleanField(_l("Aktif"), default=True)


class MakerForm(FlaskForm):
    sentra_id = SelectField(_l("Sentra"), coerce=int, validate_choice=False)
    name = RequiredStringField(_l("Nama lengkap"), validators=[DataRequired(_l("Nama lengkap wajib diisi.")),
                                                               Length(max=120)])
    public_name = StringField(_l("Nama tampilan (mis. Bu Sri)"), validators=[Optional(), Length(max=120)])
    cluster = SelectField(_l("Klaster"), choices=[(c.value, c.label) for c in Cluster])
    program = SelectField(_l("Program"), choices=[(p.value, p.label) for p in Program])
    phone = StringField(_l("Nomor HP"), validators=[Optional(), Length(max=20)],
                        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
    birth_date = DateField(_l("Tanggal lahir"), validators=[Optional()])
    is_minor = BooleanField(_l("Di bawah 18 tahun (perlu wali)"))
    guardian_name = StringField(_l("Nama wali / pendamping"), validators=[Optional(), Length(max=120)])
    guardian_relation = StringField(_l("Hubungan wali"), validators=[Optional(), Length(max=60)])
    story = TextAreaField(_l("Cerita pembuat"), validators=[Optional()])
    payout_method = SelectField(_l("Cara pembayaran pendapatan"), choices=[(m.value, m.label) for m in PayoutMethod])
    bank_name = StringField(_l("Nama bank"), validators=[Optional(), Length(max=80)])
    account_number = StringField(_l("Nomor rekening"), validators=[Optional(), Length(max=40)])
    account_holder = StringField(_l("Nama pemilik rekening"), validators=[Optional(), Length(max=120)])
    ewallet_provider = StringField(_l("Dompet digital"), validators=[Optional(), Length(max=40)])
    ewallet_number = StringField(_l("Nomor dompet digital"), validators=[Optional(), Length(max=20)])


class ConsentForm(FlaskForm):
    purpose = SelectField(_l("Penggunaan data"), choices=[(p.value, p.label) for p in ConsentPurpose])
    given_by = SelectField(_l("Izin diberikan oleh"), choices=[
        (ConsentGiver.MAKER.value, _l("Pembuat sendiri")), (ConsentGiver.GUARDIAN.value, _l("Wali / pendamping"))])
    given_by_name = RequiredStringField(_l("Nama pemberi izin"),
                                        validators=[DataRequired(_l("Nama pemberi izin wajib diisi.")),
                                                    Length(max=120)])


class MemberForm(Form):
    maker_id = SelectField(_l("Anggota"), validate_choice=False)
    share_weight = StringField(_l("Bobot bagian"), render_kw={"inputmode": "numeric"})


class GroupForm(FlaskForm):
    sentra_id = SelectField(_l("Sentra"), coerce=int, validate_choice=False)
    name = RequiredStringField(_l("Nama kelompok"), validators=[DataRequired(_l("Nama kelompok wajib diisi.")),
                                                                Length(max=120)])
    kind = SelectField(_l("Jenis"), choices=[(GroupKind.KUBE.value, "KUBE"),
                                             (GroupKind.CO_MAKERS.value, _l("Pembuat bersama"))])
    members = FieldList(FormField(MemberForm), min_entries=6, max_entries=30)


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


class PhotoForm(FlaskForm):
    photo = FileField(_l("Foto produk (JPEG, PNG atau WebP)"), render_kw={"accept": "image/jpeg,image/png,image/webp"})


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
