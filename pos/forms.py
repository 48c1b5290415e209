"""Counter forms (shape only; the services check the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.forms import RequiredStringField
from pos.services import DENOMINATIONS


class ShiftOpenForm(FlaskForm):
    sentra_id = SelectField(_l("Sentra"), coerce=int, validate_choice=False)
    opening_float = RequiredStringField(
        _l("Modal awal kas (uang di laci)"),
        validators=[DataRequired(_l("Modal awal kas wajib diisi (boleh 0).")), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class ShiftCloseForm(FlaskForm):
    """One field per denomination, named d100000 … d100 (pieces counted)."""


for _denom in DENOMINATIONS:
    setattr(ShiftCloseForm, f"d{_denom}", StringField(
        f"Rp {_denom:,}".replace(",", "."), default="0",
        validators=[Length(max=7)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "class": "count"},
    ))
