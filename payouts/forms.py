"""Payout forms (shape only; the rules are in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import RequiredDateField, RequiredStringField


class RunCreateForm(FlaskForm):
    sentra_id = SelectField(_l("Sentra"), coerce=int, validators=[DataRequired(_l("Pilih Sentra."))])
    cutoff_date = RequiredDateField(_l("Tanggal batas"), validators=[DataRequired(_l("Tanggal batas wajib diisi."))])
    note = StringField(_l("Catatan (boleh kosong)"), validators=[Optional(), Length(max=200)])
    client_key = HiddenField()


class ActionForm(FlaskForm):
    """A button that only needs CSRF (approve, pay all cash lines)."""


class PayLineForm(FlaskForm):
    reference = StringField(_l("Nomor referensi"), validators=[Optional(), Length(max=80)])


class CancelForm(FlaskForm):
    reason = RequiredStringField(_l("Alasan pembatalan"), validators=[DataRequired(_l("Alasan wajib diisi.")),
                                                                      Length(max=150)])


class SlipUploadForm(FlaskForm):
    slip = FileField(_l("Foto atau PDF bukti yang sudah ditandatangani"))

