"""Login forms (shape only; credentials are checked in services)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class StaffLoginForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(_l("E-mail wajib diisi.")), Length(max=254)],
                        render_kw={"autocomplete": "username", "type": "email", "inputmode": "email"})
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Kata sandi wajib diisi."))],
                             render_kw={"autocomplete": "current-password"})


class MakerLoginForm(FlaskForm):
    phone = StringField(_l("Nomor HP"), validators=[DataRequired(_l("Nomor HP wajib diisi.")), Length(max=20)],
                        render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"})
    pin = PasswordField(_l("PIN (6 angka)"), validators=[
        DataRequired(_l("PIN wajib diisi.")), Regexp(r"^\d{6}$", message=_l("PIN harus 6 angka."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6, "pattern": r"\d{6}"})
