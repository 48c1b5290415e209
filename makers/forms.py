"""Maker, consent and group forms: shape only; rules live in makers.services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import RequiredStringField
from makers.models import Cluster, ConsentGiver, ConsentPurpose, GroupKind, PayoutMethod, Program


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
