"""Sentra forms: shape only; rules live in sentras.services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import RequiredStringField, RupiahField
from sentras.services import TIMEZONES


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
    online_release_days = StringField(
        _l("Pesanan online terkirim dibayarkan ke pembuat setelah (hari), walau belum ditandai diterima"), default="14")
    shipping_fee = RupiahField(_l("Ongkos kirim pesanan online"), required=False, default="0")
    is_active = BooleanField(_l("Aktif"), default=True)
