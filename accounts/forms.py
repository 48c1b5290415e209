"""Login and admin forms (shape only; credentials and account rules are checked in services)."""

from typing import cast

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from core.forms import RequiredPasswordField, RequiredStringField


class StaffLoginForm(FlaskForm):
    email = RequiredStringField(_l("E-mail"), validators=[DataRequired(_l("E-mail wajib diisi.")), Length(max=254)],
                                render_kw={"autocomplete": "username", "type": "email", "inputmode": "email"})
    password = RequiredPasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Kata sandi wajib diisi."))],
                                     render_kw={"autocomplete": "current-password"})


class MakerLoginForm(FlaskForm):
    phone = RequiredStringField(_l("Nomor HP"), validators=[DataRequired(_l("Nomor HP wajib diisi.")), Length(max=20)],
                                render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"})
    pin = RequiredPasswordField(_l("PIN (6 angka)"), validators=[
        DataRequired(_l("PIN wajib diisi.")), Regexp(r"^\d{6}$", message=_l("PIN harus 6 angka."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6, "pattern": r"\d{6}"})


# --- Admin: users, roles, Sentras, PIN resets -------------------------------------------------
# Forms check shape only (required, length); the services check the rules (valid e-mail and
# phone, strong password, PIN, duplicates, known Sentras) so the CLI and the views agree.
# No WTForms built-in message is ever shown (WTForms has no Indonesian catalogue): every
# validator gets its own message and choices are checked with our own wording.

STAFF_ROLE_CHOICES = [("kasir", _l("Kasir")), ("manager", _l("Manajer")), ("admin", _l("Admin"))]


def _int_or_invalid(value) -> int:
    """Coerce a posted id; anything that is not a number becomes -1 (an id no row has)."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else -1


class SentraCheckboxes(SelectMultipleField):
    """Sentra ids as checkboxes; unknown ids are reported by the service, in Indonesian."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", _int_or_invalid)
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data = [self.coerce(v) for v in valuelist]


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Cari nama, e-mail, atau nomor HP"), validators=[Optional(), Length(max=120)],
                    render_kw={"type": "search"})
    role = SelectField(_l("Peran"), validate_choice=False)
    sentra = SelectField(_l("Sentra"), validate_choice=False)


class StaffUserForm(FlaskForm):
    name = RequiredStringField(_l("Nama lengkap"), validators=[
        DataRequired(_l("Nama wajib diisi.")), Length(max=120, message=_l("Nama maksimal 120 karakter."))],
        render_kw={"autocomplete": "off"})
    email = RequiredStringField(_l("E-mail"), validators=[
        DataRequired(_l("E-mail wajib diisi.")), Length(max=254, message=_l("E-mail terlalu panjang."))],
        render_kw={"type": "email", "inputmode": "email", "autocomplete": "off"})
    password = RequiredPasswordField(_l("Kata sandi awal"), validators=[DataRequired(_l("Kata sandi wajib diisi."))],
                                     render_kw={"autocomplete": "new-password"})
    role = SelectField(_l("Peran"), choices=STAFF_ROLE_CHOICES, validate_choice=False)
    sentra_ids = SentraCheckboxes(_l("Sentra"))

    def validate_role(self, field) -> None:
        if field.data not in {value for value, _label in STAFF_ROLE_CHOICES}:
            raise ValidationError(_l("Pilih peran dari daftar."))


class MakerUserForm(FlaskForm):
    maker_id = SelectField(_l("Data pembuat (PM)"), coerce=_int_or_invalid, validate_choice=False)
    name = RequiredStringField(_l("Nama di akun"), validators=[
        DataRequired(_l("Nama wajib diisi.")), Length(max=120, message=_l("Nama maksimal 120 karakter."))],
        render_kw={"autocomplete": "off"})
    phone = RequiredStringField(_l("Nomor HP"), validators=[
        DataRequired(_l("Nomor HP wajib diisi.")), Length(max=20, message=_l("Nomor HP terlalu panjang."))],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
    pin = RequiredPasswordField(_l("PIN awal (6 angka)"), validators=[DataRequired(_l("PIN wajib diisi."))],
                                render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6})


class UserAccessForm(FlaskForm):
    role = SelectField(_l("Peran"), validate_choice=False)
    sentra_ids = SentraCheckboxes(_l("Sentra"))
    active = BooleanField(_l("Akun aktif (boleh masuk)"))

    def validate_role(self, field) -> None:
        choices = cast("list[tuple[str, str]]", self.role.choices)  # set by the view as (value, label)
        if field.data not in {value for value, _label in choices}:
            raise ValidationError(_l("Pilih peran dari daftar."))


class PinResetForm(FlaskForm):
    pin = RequiredPasswordField(_l("PIN baru (6 angka)"), validators=[DataRequired(_l("PIN wajib diisi."))],
                                render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6})


class OwnApprovalPinForm(FlaskForm):
    """A manager or admin sets their own counter-approval PIN, proving it is them with the password."""

    password = RequiredPasswordField(_l("Kata sandi Anda (untuk memastikan ini Anda)"),
                                     validators=[DataRequired(_l("Kata sandi wajib diisi."))],
                                     render_kw={"autocomplete": "current-password"})
    pin = RequiredPasswordField(_l("PIN persetujuan baru (6 angka)"),
                                validators=[DataRequired(_l("PIN wajib diisi."))],
                                render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6})
    confirm = PasswordField(_l("Ulangi PIN"), validators=[EqualTo("pin", _l("PIN tidak sama."))],
                            render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6})
