"""Required form fields, typed for the checker as what they hold once the form has validated.

WTForms types `field.data` as `... | None` (nothing posted yet) and `field.errors` as a sequence.
Inside `if form.validate_on_submit():` a field with `DataRequired` holds a value, and views add
service errors to it with `errors.append`. At run time these names are the WTForms classes
themselves; use them only for fields that have a `DataRequired` validator.
"""

from datetime import date
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, IntegerField, PasswordField, StringField, TelField
from wtforms.validators import ValidationError

from core.errors import ValidationFailed
from core.money import MoneyParseError, parse_rupiah

if TYPE_CHECKING:
    class RequiredStringField(StringField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredPasswordField(PasswordField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredEmailField(EmailField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredTelField(TelField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredDateField(DateField):
        @property  # type: ignore[override]  # as WTForms' own stub for DateField
        def data(self) -> date: ...
        @data.setter
        def data(self, value: date | None) -> None: ...
        errors: list[str]

    class RequiredIntegerField(IntegerField):
        @property
        def data(self) -> int: ...
        @data.setter
        def data(self, value: int | None) -> None: ...
        errors: list[str]
else:
    RequiredStringField = StringField
    RequiredPasswordField = PasswordField
    RequiredEmailField = EmailField
    RequiredTelField = TelField
    RequiredDateField = DateField
    RequiredIntegerField = IntegerField


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


def apply_errors(form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    """Show service errors (field → message) next to the matching field, or at the top of the form.

    `lines-3` / `members-3` name row 3 of the `lines` / `members` field list (its `qty` /
    `share_weight`); `aliases` maps a service field name to a form field name.
    """
    for name, message in errors.items():
        field = None
        if name.startswith(("lines-", "members-")):
            list_name, index = name.split("-", 1)
            entries = form._fields[list_name].entries
            if index.isdigit() and int(index) < len(entries):
                field = entries[int(index)].form._fields.get("qty" if list_name == "lines" else "share_weight")
        else:
            field = form._fields.get((aliases or {}).get(name, name))
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
    form._errors = None


class PhotoForm(FlaskForm):
    photo = FileField(_l("Foto produk (JPEG, PNG atau WebP)"), render_kw={"accept": "image/jpeg,image/png,image/webp"})


def save_photo_upload(form: PhotoForm, save) -> bool:
    """Read the upload (at most one byte over the cap, so the service can refuse it) and save.

    False, with the errors on the form and nothing written, when the form or the image is refused.
    """
    if form.validate_on_submit():
        upload = form.photo.data
        data = upload.read(int(current_app.config["UPLOAD_IMAGE_MAX_BYTES"]) + 1) if upload else b""
        try:
            save(data, upload.filename if upload else None)
        except ValidationFailed as error:
            apply_errors(form, error.errors)
        else:
            return True
    return False


def form_page(form, title: str, cancel_url: str, *, enctype: str | None = None, intro: str | None = None):
    """The shared one-form page; a POST that shows the form again answers 422 (and so rolls back)."""
    from flask import render_template, request

    status = 422 if request.method == "POST" else 200
    return render_template("_form_page.html", form=form, title=title, cancel_url=cancel_url,
                           enctype=enctype, intro=intro), status
